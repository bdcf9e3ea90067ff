"""The MMOD face detector port against dlib-bin, per image size, in one run.

For each image: dlib's ``cnn_face_detection_model_v1`` time, ours (best of ``--repeat``), the ratio
dlib / ours, and whether boxes and scores agree. Sizes: 250x250 LFW images and group photos scaled
to each ``--sides`` long side. Run:
``.venv/bin/python benchmarks/bench_detection.py [--threads 2] [--device cpu] [--upsample 0] [--out F]``
(``taskset -c 0,1`` pins it to two cores).
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from PIL import Image

from _common import GROUP, LFW, report, timed


def scaled(path, side: int | None) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if side and max(image.size) > side:
        s = side / max(image.size)
        image = image.resize((round(image.width * s), round(image.height * s)), Image.BILINEAR)
    return np.asarray(image)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=8, help="LFW images (250x250)")
    ap.add_argument("--photos", type=int, default=3, help="group photos per size")
    ap.add_argument("--sides", type=int, nargs="*", default=[640, 1000], help="long sides for the group photos")
    ap.add_argument("--upsample", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--device", default=None, help="torch device for ours (default: the best one)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import dlib
    from facereid_engine.detect import load_detector
    from facereid_engine.device import device_name
    from facereid_engine.paths import dlib_model_path

    ours = load_detector(args.device)
    theirs = dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat")))

    sets: dict[str, list[np.ndarray]] = {
        "lfw 250x250": [scaled(p, None) for p in sorted((LFW / "images").glob("A*/*_0001.jpg"))[: args.lfw]]}
    photos = sorted((GROUP / "photos").glob("*.jpg"))[: args.photos]
    for side in args.sides:
        sets[f"group photo, long side {side}"] = [scaled(p, side) for p in photos]

    sets = {name: images for name, images in sets.items() if images}
    ours.detect(next(iter(sets.values()))[0], args.upsample)  # warm-up
    rows = []
    for name, images in sets.items():
        t_ours, t_dlib, exact, faces = [], [], True, 0
        for image in images:
            t, found = timed(ours.detect, image, args.upsample, repeat=args.repeat)
            t_ours.append(t)
            t, ref = timed(theirs, image, args.upsample)
            t_dlib.append(t)
            boxes = [(r.rect.left(), r.rect.top(), r.rect.right(), r.rect.bottom()) for r in ref]
            exact &= boxes == [d.box for d in found] and all(
                abs(r.confidence - d.score) < 1e-3 for r, d in zip(ref, found))
            faces += len(found)
        row = {
            "images": name, "count": len(images),
            "shape": "x".join(map(str, images[0].shape[:2])),
            "ours_s_per_image": round(statistics.mean(t_ours), 4),
            "dlib_s_per_image": round(statistics.mean(t_dlib), 4),
            "speedup": round(sum(t_dlib) / sum(t_ours), 1),
            "faces": faces, "same_as_dlib": bool(exact),
        }
        rows.append(row)
        print(row, flush=True)
    report("bench_detection", {
        "device": device_name(ours.device), "torch_threads": torch.get_num_threads(),
        "upsample": args.upsample, "results": rows,
        "overall_speedup": round(sum(r["dlib_s_per_image"] * r["count"] for r in rows)
                                 / sum(r["ours_s_per_image"] * r["count"] for r in rows), 1),
    }, args.out)


if __name__ == "__main__":
    main()
