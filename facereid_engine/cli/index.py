"""``facereid index``: index a photo archive on a Ray cluster into Parquet shards (the ``cluster`` extra).

    facereid index PHOTO_DIR --out DIR [--ray ADDRESS|local] [--batch-size N] [--workers N] [--threads N]

Then ``facereid albums --import-index DIR`` brings the index into a library and groups it.
"""
from __future__ import annotations

import argparse

from ..defaults import DEFAULT_DETECTOR, DEFAULT_ENCODER, DETECTORS
from . import dumps, int_range
from .progressbar import drive


def register(subparsers) -> None:
    p = subparsers.add_parser("index", help="find and embed the faces of a photo archive on a Ray cluster",
                              description="Detect and embed every face under PHOTO_DIR with a pool of Ray "
                              "actors, writing Parquet shards under --out. A rerun continues where the last "
                              "stopped. Needs the cluster extra: pip install 'facereid[cluster]'.")
    p.add_argument("photo_dir", metavar="PHOTO_DIR", help="folder of photos (read only; the same path on every node)")
    p.add_argument("--out", required=True, metavar="DIR", help="index folder (created; continued if it exists)")
    p.add_argument("--ray", default="local", metavar="ADDRESS",
                   help="Ray cluster address (e.g. ray://head:10001 or auto), or 'local' to start one here")
    p.add_argument("--encoder", default=None,
                   help=f"encoder (default: an existing index's own, else {DEFAULT_ENCODER})")
    p.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR, help="face detector")
    p.add_argument("--detail", choices=("fast", "normal", "small"), default="normal",
                   help="detection detail, as for 'facereid albums'")
    p.add_argument("--batch-size", type=int_range(1, 4096), default=16, metavar="N", help="photos per batch (16)")
    p.add_argument("--workers", type=int_range(1), default=None, metavar="N",
                   help="actors (default: one per GPU, else CPUs / --threads)")
    p.add_argument("--threads", type=int_range(1, 256), default=1, metavar="N", help="CPU threads per CPU actor (1)")
    p.add_argument("--cpus", type=int_range(1), default=None, metavar="N", help="with --ray local: CPUs to use")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..cluster import index_work
    from ..cluster.shards import read_manifest
    from ..library.scanning import DETAIL, ScanSettings
    max_side, upsample = DETAIL[args.detail]
    if args.encoder is None:  # a rerun continues with the encoder the index was made with
        known = read_manifest(args.out)
        args.encoder = known["encoder"] if known else DEFAULT_ENCODER
    settings = ScanSettings(encoder=args.encoder, face_detector=args.detector, max_side=max_side, upsample=upsample)
    result = drive(index_work(args.photo_dir, args.out, ray_address=args.ray, settings=settings,
                              batch_size=args.batch_size, workers=args.workers, threads=args.threads,
                              cpus=args.cpus), show=not args.no_progress)
    if args.json:
        print(dumps({"folder": result.folder, "out": result.out, "photos": result.photos, "indexed": result.indexed,
                     "skipped": result.skipped, "faces": result.faces, "workers": result.workers,
                     "device": result.device, "seconds": round(result.seconds, 3),
                     "errors": [{"photo": e.path, "error": e.error} for e in result.errors]}))
    else:
        print(result.summary())
    return 0   # photos that could not be read are listed, as a scan lists them
