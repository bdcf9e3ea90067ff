"""The numpy shape predictor and face chips against dlib-bin, on the same pixels, in one run.

Reports the model load time (parsing the .dat, then from the .npz cache), landmarks per face, and
chip time per face from a small photo and from a 12-megapixel one, each with the ratio ours / dlib,
and checks on the way that every result equals dlib's. Run:
``.venv/bin/python benchmarks/bench_landmarks_chips.py`` (``--out FILE`` saves the JSON).
"""
from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
from PIL import Image

from _common import GROUP, LFW, report, timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=40, help="LFW images for the landmark timing")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    os.environ["FACEREID_HOME"] = tempfile.mkdtemp(prefix="facereid-bench-")  # a cold cache

    import dlib
    from facereid_engine import landmarks
    from facereid_engine.alignment import face_chip
    from facereid_engine.landmarks_file import load_shape_predictor_model
    from facereid_engine.paths import dlib_model_path

    model_path = dlib_model_path(landmarks.MODEL_FILE)
    t_parse, _ = timed(load_shape_predictor_model, model_path)
    t_cached, _ = timed(load_shape_predictor_model, model_path, repeat=args.repeat)
    t_dlib_load, d_sp = timed(dlib.shape_predictor, str(model_path))
    sp = landmarks.load_shape_predictor()
    hog = dlib.get_frontal_face_detector()

    paths = sorted((LFW / "images").glob("*/*.jpg"))[::300][:args.lfw]
    work = []
    for p in paths:
        image = np.asarray(Image.open(p).convert("RGB"))
        work += [(image, r) for r in hog(image, 0)]
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for _, r in work]
    t_ours, ours = timed(lambda: [sp.predict(im, b) for (im, _), b in zip(work, boxes)], repeat=args.repeat)
    t_dlib, shapes = timed(lambda: [d_sp(im, r) for im, r in work], repeat=args.repeat)
    for got, shape in zip(ours, shapes):
        assert np.array_equal(got, [[shape.part(i).x, shape.part(i).y] for i in range(5)])

    photo = Image.open(GROUP / "photos" / "deepface_couple.jpg").convert("RGB")
    big = np.asarray(photo.resize((4240, 2953), Image.BILINEAR))  # 12.5 MP
    scale = big.shape[1] / photo.width
    big_faces = []
    for r in hog(np.asarray(photo), 0):
        box = dlib.rectangle(*(int(v * scale) for v in (r.left(), r.top(), r.right(), r.bottom())))
        big_faces.append((big, d_sp(big, box)))
    chips = {}
    for name, cases in (("small", [(im, s) for (im, _), s in zip(work, shapes)]), ("12MP", big_faces)):
        for size in (150, 224):
            pts = [np.array([[s.part(i).x, s.part(i).y] for i in range(5)], float) for _, s in cases]
            t_o, got = timed(lambda: [face_chip(im, p, size) for (im, _), p in zip(cases, pts)], repeat=args.repeat)
            t_d, want = timed(lambda: [dlib.get_face_chip(im, s, size=size) for im, s in cases], repeat=args.repeat)
            assert all(np.array_equal(a, b) for a, b in zip(got, want))
            chips[f"{name}_{size}"] = {"faces": len(cases), "ms_per_face": 1e3 * t_o / len(cases),
                                       "dlib_ms_per_face": 1e3 * t_d / len(cases), "ratio": t_o / t_d}
    report("landmarks+chips", {
        "load_s": {"parse_and_cache": t_parse, "from_cache": t_cached, "dlib": t_dlib_load},
        "landmarks": {"faces": len(work), "ms_per_face": 1e3 * t_ours / len(work),
                      "dlib_ms_per_face": 1e3 * t_dlib / len(work), "ratio": t_ours / t_dlib},
        "chips": chips,
        "big_photo_pixels": int(big.shape[0] * big.shape[1]),
        "identical_to_dlib": True,
    }, args.out)


if __name__ == "__main__":
    main()
