"""The default scan before and after fused became the default, in one run on the same photos.

Scans (``Library.scan_work``, grouping included) of the same folders with each configuration:

* ``dlib + mmod``: the default until fused reached 99.5% on LFW;
* ``fused + mmod``: the default now (dlib and SFace on every face; MMOD still finds the faces);
* ``fused + yunet``: the same encoder with YuNet finding the faces (``--detector yunet``).

Folders: ``--lfw`` LFW images (250 x 250, one face each, from people with many images) and ``--big``
12 MP photos (4032 x 3024) with 15 LFW faces each (``bench_scan.composite``). Seconds per photo, and
the ratio to the old default. Models are loaded before the clock starts.

    .venv/bin/python benchmarks/bench_default_scan.py [--lfw 200] [--big 3]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import LFW, report
from bench_scan import composite, reference_seconds

CONFIGS = (("dlib", "mmod"), ("fused", "mmod"), ("fused", "yunet"))


def _lfw_folder(folder: Path, n: int) -> None:
    images = sorted((LFW / "images").glob("*/*.jpg"))
    for p in images[:: max(1, len(images) // n)][:n]:
        (folder / p.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, folder / p.parent.name / p.name)


def _scan(folder: Path, library: Path, encoder: str, detector: str) -> tuple[float, int, int]:
    from facereid_engine.library import Library
    from facereid_engine.library.scanning import ScanSettings
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.progress import run
    settings = ScanSettings(encoder=encoder, face_detector=detector)
    pipe = FacePipeline(encoder, detector=detector, max_side=settings.max_side, upsample=settings.upsample)
    pipe.analyse(np.zeros((300, 300, 3), np.uint8))  # models loaded before timing
    with Library(library) as lib:
        start = time.perf_counter()
        result = run(lib.scan_work(folder, settings=settings, pipeline=pipe))
        return time.perf_counter() - start, result.photos, result.faces


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lfw", type=int, default=200, help="LFW images to scan")
    ap.add_argument("--big", type=int, default=3, help="12 MP photos to scan")
    ap.add_argument("--out")
    args = ap.parse_args()
    out: dict = {"reference_s": reference_seconds()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "lfw").mkdir()
        _lfw_folder(tmp / "lfw", args.lfw)
        (tmp / "big").mkdir()
        for i in range(args.big):
            composite(tmp / "big" / f"photo{i:02d}.jpg", seed=i + 1)
        for kind in ("lfw", "big"):
            rows = {}
            for encoder, detector in CONFIGS:
                name = f"{encoder} + {detector}"
                seconds, photos, faces = _scan(tmp / kind, tmp / f"{kind}-{encoder}-{detector}.sqlite",
                                               encoder, detector)
                rows[name] = {"s_per_photo": round(seconds / photos, 4), "photos": photos, "faces": faces}
            old = rows["dlib + mmod"]["s_per_photo"]
            for row in rows.values():
                row["speed_vs_old_default"] = round(old / row["s_per_photo"], 2)
            out[kind] = rows
    out["reference_s_after"] = reference_seconds()
    report("bench_default_scan", out, args.out)


if __name__ == "__main__":
    main()
