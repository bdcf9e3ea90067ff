"""``facereid verify``, ``facereid detect`` and ``facereid embed``."""
from __future__ import annotations

import argparse
import os

from ..distances import DISTANCES
from ..encoders import DEFAULT_ENCODER
from ..defaults import DEFAULT_DETECTOR, DETECTORS
from ..errors import ImageLoadError, NoFaceFoundError
from . import dumps, finite_float, int_range, report_error

#: Most doublings before detection: each one quadruples the pixels (4 is 256 times the image).
MAX_UPSAMPLE = 4


def _add_detector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--upsample", type=int_range(0, MAX_UPSAMPLE), default=None, metavar="N",
                   help=f"double the image N times (0-{MAX_UPSAMPLE}) before detection to find small faces "
                        "(slower; default: small pictures only)")
    p.add_argument("--max-side", type=int_range(0), default=None, metavar="PX",
                   help="detect on a copy scaled down to this long side (default 2048; 0 = full size)")
    p.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR,
                   help=f"face detector (default {DEFAULT_DETECTOR}): mmod is dlib's CNN, yunet OpenCV Zoo's "
                        "YuNet (faster; finds profiles)")


def _pipeline_options(args) -> dict:
    from ..pipeline import DEFAULT_MAX_SIDE
    max_side = DEFAULT_MAX_SIDE if args.max_side is None else (args.max_side or None)
    return {"upsample": args.upsample, "max_side": max_side, "detector": args.detector}


def register(sub) -> None:
    p = sub.add_parser("verify", help="are two photos the same person? (exit 0 same, 1 different, 2 error)",
                       description="Compare the largest face of each image. Exit code 0 = same person, "
                                   "1 = different people, 2 = error.")
    p.add_argument("image1")
    p.add_argument("image2")
    p.add_argument("--encoder", default=DEFAULT_ENCODER)
    p.add_argument("--distance", default="euclidean", help=f"one of {', '.join(DISTANCES)} (or euclidean-l2)")
    p.add_argument("--threshold", type=finite_float, default=None, help="default: the calibrated threshold")
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
    images = (args.image1, args.image2)
    if args.face_crop:
        images = tuple(_face_crop(path) for path in images)
    result = verification(*images, encoder_name=args.encoder, distance_name=args.distance,
                          threshold=args.threshold, face_crop=args.face_crop,
                          compare="closest" if args.closest else "largest", flip=args.flip, pipeline=pipe)
    if args.json:
        print(dumps(result.to_json()))
    else:
        verdict = "same person" if result else "different people"
        note = " (provisional threshold)" if result.threshold_provisional else ""
        print(f"{verdict}: {result.distance_name} distance {result.distance:.4f}, "
              f"threshold {result.threshold:.4f}{note}, encoder {result.encoder_name}")
    return 0 if result else 1


def _face_crop(path: str):
    """The image of a ``--face-crop`` argument; a blank (one uniform colour) image is no face crop."""
    from ..images import load_image
    image = load_image(path)
    if (image == image[0, 0]).all():
        raise NoFaceFoundError(path, "the image is blank (one uniform colour), not a face crop")
    return image


def _image_paths(paths: list[str]) -> list[tuple[str, str | None]]:
    """(path, None) for each file to read, or (path, why) for what cannot be read as an image.

    A folder is read recursively (its image files, sorted; see :func:`~facereid_engine.folders.find_images`);
    what cannot be entered or read there (unreadable folders, dangling links, special files) is
    reported, never silently skipped.
    """
    from ..folders import find_images
    out: list[tuple[str, str | None]] = []
    for path in paths:
        if not os.path.isdir(path):
            out.append((path, None))  # load_image says what is wrong with a missing or odd file
            continue
        found = find_images(path)
        out.extend(sorted([(p, None) for p in found.photos] + list(found.problems)))
    return out


def run_faces(args) -> int:
    from ..images import load_image
    from ..pipeline import get_pipeline
    encoder = getattr(args, "encoder", DEFAULT_ENCODER)
    pipe = get_pipeline(encoder, **_pipeline_options(args))
    failed = 0
    for path, why in _image_paths(args.images):
        try:
            if why is not None:
                raise ImageLoadError(path, why)
            image = load_image(path)
            faces = pipe.find_faces(image)
            if args.with_embedding:
                faces = pipe.embed_faces(image, faces, flip=args.flip)
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # one file's error is reported for that file; the others go on
            failed += 1
            line = report_error(exc, subject=path)
            if args.json:
                print(dumps({"path": path, "error": line}), flush=True)
            continue
        if args.json:
            print(dumps({"path": path, "faces": [f.to_json(args.with_embedding) for f in faces]}), flush=True)
        else:
            print(f"{path}: {len(faces)} face(s)")
            for f in faces:
                print(f"  box {list(f.box)} score {f.score:.3f}")
    return 2 if failed else 0
