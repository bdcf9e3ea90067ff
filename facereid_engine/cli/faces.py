"""``facereid verify``, ``facereid detect`` and ``facereid embed``."""
from __future__ import annotations

import argparse
import json
import sys

from ..distances import DISTANCES
from ..encoders import DEFAULT_ENCODER
from ..errors import FaceReIDError


def _add_detector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--upsample", type=int, default=0, metavar="N",
                   help="double the image N times before detection to find small faces (slower)")
    p.add_argument("--max-side", type=int, default=None, metavar="PX",
                   help="detect on a copy scaled down to this long side (default 2048; 0 = full size)")


def _pipeline_options(args) -> dict:
    from ..pipeline import DEFAULT_MAX_SIDE
    max_side = DEFAULT_MAX_SIDE if args.max_side is None else (args.max_side or None)
    return {"upsample": args.upsample, "max_side": max_side}


def register(sub) -> None:
    p = sub.add_parser("verify", help="are two photos the same person? (exit 0 same, 1 different, 2 error)",
                       description="Compare the largest face of each image. Exit code 0 = same person, "
                                   "1 = different people, 2 = error.")
    p.add_argument("image1")
    p.add_argument("image2")
    p.add_argument("--encoder", default=DEFAULT_ENCODER)
    p.add_argument("--distance", default="euclidean", help=f"one of {', '.join(DISTANCES)} (or euclidean-l2)")
    p.add_argument("--threshold", type=float, default=None, help="default: the calibrated threshold")
    p.add_argument("--closest", action="store_true", help="compare every pair of faces, report the closest")
    p.add_argument("--face-crop", action="store_true", help="the images are already face crops")
    p.add_argument("--flip", action="store_true", help="average with the mirrored faces (slower, a bit better)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_detector_options(p)
    p.set_defaults(func=run_verify)

    for name, helptext in (("detect", "find faces: boxes, scores, landmarks"),
                           ("embed", "find and embed faces")):
        p = sub.add_parser(name, help=helptext, description=helptext + ". With --json, one JSON object per "
                           "image per line; a file that fails gives {\"path\", \"error\"} and the command "
                           "goes on (exit code 2 if any failed).")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        if name == "embed":
            p.add_argument("--encoder", default=DEFAULT_ENCODER)
            p.add_argument("--flip", action="store_true")
        p.add_argument("--json", action="store_true")
        _add_detector_options(p)
        p.set_defaults(func=run_faces, with_embedding=(name == "embed"))


def run_verify(args) -> int:
    from ..pipeline import get_pipeline
    from ..verify import verification
    pipe = get_pipeline(args.encoder, **_pipeline_options(args))
    result = verification(args.image1, args.image2, encoder_name=args.encoder, distance_name=args.distance,
                          threshold=args.threshold, face_crop=args.face_crop,
                          compare="closest" if args.closest else "largest", flip=args.flip, pipeline=pipe)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        verdict = "same person" if result else "different people"
        note = " (provisional threshold)" if result.threshold_provisional else ""
        print(f"{verdict}: {result.distance_name} distance {result.distance:.4f}, "
              f"threshold {result.threshold:.4f}{note}, encoder {result.encoder_name}")
    return 0 if result else 1


def run_faces(args) -> int:
    from ..images import load_image
    from ..pipeline import get_pipeline
    encoder = getattr(args, "encoder", DEFAULT_ENCODER)
    pipe = get_pipeline(encoder, **_pipeline_options(args))
    failed = 0
    for path in args.images:
        try:
            image = load_image(path)
            faces = pipe.find_faces(image)
            if args.with_embedding:
                faces = pipe.embed_faces(image, faces, flip=args.flip)
        except FaceReIDError as exc:
            failed += 1
            if args.json:
                print(json.dumps({"path": path, "error": str(exc)}), flush=True)
            print(f"facereid: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"path": path, "faces": [f.to_json(args.with_embedding) for f in faces]}),
                  flush=True)
        else:
            print(f"{path}: {len(faces)} face(s)")
            for f in faces:
                print(f"  box {list(f.box)} score {f.score:.3f}")
    return 2 if failed else 0
