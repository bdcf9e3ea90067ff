"""The numpy shape predictor and face chips against dlib-bin, on the same pixels, in one run.

Reports the model load time (parsing the .dat, then from the .npz cache); landmarks per face three
ways (one ``predict`` call per face; ``predict_many`` with every face of a group photo; one
``predict_batch`` over the faces of many LFW images), and chip time per face from small LFW photos
and from a 12-megapixel one, each with the ratio ours / dlib. Ours and dlib run in alternation,
round after round, and the best round of each counts, so that a busy machine slows both alike.
Every result is checked to equal dlib's. Run:
``.venv/bin/python benchmarks/bench_landmarks_chips.py`` (``--out FILE`` saves the JSON).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
from PIL import Image

from _common import GROUP, LFW, report, timed


def best_of(rounds: int, **fns):
    """{name: (best seconds, last result)}, running the functions in alternation."""
    best = {name: (float("inf"), None) for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            result = fn()
            best[name] = (min(best[name][0], time.perf_counter() - start), result)
    return best


def per_face(best: dict, faces: int) -> dict:
    ours, dlib_ = best["ours"][0], best["dlib"][0]
    return {"faces": faces, "ms_per_face": 1e3 * ours / faces, "dlib_ms_per_face": 1e3 * dlib_ / faces,
            "ratio": ours / dlib_}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=40, help="LFW images for the landmark and small-chip timing")
    ap.add_argument("--repeat", type=int, default=7, help="rounds (the best one counts)")
    ap.add_argument("--out")
    args = ap.parse_args()
    os.environ["FACEREID_HOME"] = tempfile.mkdtemp(prefix="facereid-bench-")  # a cold cache

    import dlib
    from facereid_engine.landmarks import predictor as landmarks
    from facereid_engine.alignment.chips import face_chip
    from facereid_engine.landmarks.model_file import load_shape_predictor_model
    from facereid_engine.paths import dlib_model_path

    model_path = dlib_model_path(landmarks.MODEL_FILE)
    t_parse, _ = timed(load_shape_predictor_model, model_path)
    t_cached, _ = timed(load_shape_predictor_model, model_path, repeat=args.repeat)
    t_dlib_load, d_sp = timed(dlib.shape_predictor, str(model_path))
    sp = landmarks.load_shape_predictor()
    hog = dlib.get_frontal_face_detector()

    def dlib_points(shape) -> np.ndarray:
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)

    def same(ours, shapes) -> bool:
        return all(np.array_equal(a, dlib_points(s)) for a, s in zip(ours, shapes))

    # landmarks: one call per LFW face; every face of a group photo at once; all LFW faces at once
    work = []
    for p in sorted((LFW / "images").glob("*/*.jpg"))[::300][:args.lfw]:
        image = np.asarray(Image.open(p).convert("RGB"))
        work += [(image, r) for r in hog(image, 0)]
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for _, r in work]
    single = best_of(args.repeat, ours=lambda: [sp.predict(im, b) for (im, _), b in zip(work, boxes)],
                     dlib=lambda: [d_sp(im, r) for im, r in work])
    shapes = single["dlib"][1]
    assert same(single["ours"][1], shapes)
    batch = best_of(args.repeat, ours=lambda: sp.predict_batch([im for im, _ in work], boxes),
                    dlib=lambda: [d_sp(im, r) for im, r in work])
    assert same(batch["ours"][1], shapes)
    group = []
    for p in sorted((GROUP / "photos").glob("*.jpg")):
        image = np.asarray(Image.open(p).convert("RGB"))
        rects = list(hog(image, 0))
        if len(rects) >= 3:
            group.append((image, rects, [(r.left(), r.top(), r.right(), r.bottom()) for r in rects]))
    many = best_of(args.repeat, ours=lambda: [sp.predict_many(im, b) for im, _, b in group],
                   dlib=lambda: [[d_sp(im, r) for r in rects] for im, rects, _ in group])
    assert all(same(o, s) for o, s in zip(many["ours"][1], many["dlib"][1]))
    n_group = sum(len(b) for _, _, b in group)

    # chips from the LFW photos, and from a 12.5-megapixel photo (the pyramid at work)
    photo = Image.open(GROUP / "photos" / "deepface_couple.jpg").convert("RGB")
    big = np.asarray(photo.resize((4240, 2953), Image.BILINEAR))
    scale = big.shape[1] / photo.width
    big_faces = []
    for r in hog(np.asarray(photo), 0):
        box = dlib.rectangle(*(int(v * scale) for v in (r.left(), r.top(), r.right(), r.bottom())))
        big_faces.append((big, d_sp(big, box)))
    chips = {}
    for name, cases in (("small", [(im, s) for (im, _), s in zip(work, shapes)]), ("12MP", big_faces)):
        pts = [dlib_points(s) for _, s in cases]
        for size in (150, 224):
            run = best_of(args.repeat, ours=lambda: [face_chip(im, p, size) for (im, _), p in zip(cases, pts)],
                          dlib=lambda: [dlib.get_face_chip(im, s, size=size) for im, s in cases])
            assert all(np.array_equal(a, b) for a, b in zip(run["ours"][1], run["dlib"][1]))
            chips[f"{name}_{size}"] = per_face(run, len(cases))
    report("landmarks+chips", {
        "load_s": {"parse_and_cache": t_parse, "from_cache": t_cached, "dlib": t_dlib_load},
        "landmarks": {
            "one_call_per_face": per_face(single, len(work)),
            "predict_many_per_group_photo": per_face(many, n_group),
            "predict_batch_all_lfw_faces": per_face(batch, len(work)),
        },
        "chips": chips,
        "big_photo_pixels": int(big.shape[0] * big.shape[1]),
        "identical_to_dlib": True,
        "threads": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "numpy_and_dlib": "one thread each"},
    }, args.out)


if __name__ == "__main__":
    main()
