"""FaceReID's engine against dlib-bin on the same decoded pixels, in one run.

Reports faces per second for detection, landmarks + chips, and descriptors (batch 1 and batched),
and the ratio ours / dlib for each. Run: ``.venv/bin/python benchmarks/bench_engine_vs_dlib.py``
(``--lfw N`` images from LFW, ``--group`` adds the group photos, ``--out FILE`` saves the JSON).
"""
from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch
from PIL import Image

from _common import GROUP, LFW, report, timed


def load_images(n_lfw: int, group: bool, group_side: int) -> list[np.ndarray]:
    paths = list(itertools.islice(sorted((LFW / "images").glob("A*/*.jpg")), n_lfw))
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    if group:
        for p in sorted((GROUP / "photos").glob("*.jpg")):
            im = Image.open(p).convert("RGB")
            im.thumbnail((group_side, group_side))
            images.append(np.asarray(im))
    return images


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=20)
    ap.add_argument("--group", action="store_true", help="add the group photos (scaled to --group-side)")
    ap.add_argument("--group-side", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out")
    args = ap.parse_args()

    import dlib
    from facereid_engine.alignment.chips import face_chip
    from facereid_engine.detect import load_detector
    from facereid_engine.device import device_name
    from facereid_engine.encoders import get_encoder
    from facereid_engine.landmarks.predictor import load_shape_predictor
    from facereid_engine.paths import dlib_model_path

    images = load_images(args.lfw, args.group, args.group_side)
    pixels = sum(im.shape[0] * im.shape[1] for im in images)

    d_det = dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat")))
    d_sp = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
    d_rec = dlib.face_recognition_model_v1(str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")))
    det, sp, enc = load_detector(), load_shape_predictor(), get_encoder("dlib")

    # warm-up (first calls allocate and tune)
    det.detect(images[0]); d_det(images[0], 0)

    t_ours_det, ours_dets = timed(lambda: [det.detect(im) for im in images])
    t_dlib_det, dlib_dets = timed(lambda: [d_det(im, 0) for im in images])
    n_faces = sum(len(d) for d in ours_dets)
    same_boxes = all(
        [d.box for d in o] == [(r.rect.left(), r.rect.top(), r.rect.right(), r.rect.bottom()) for r in dl]
        for o, dl in zip(ours_dets, dlib_dets))

    pairs = [(im, d.box) for im, ds in zip(images, ours_dets) for d in ds]

    def ours_align():
        return [face_chip(im, sp.predict(im, box)) for im, box in pairs]

    def dlib_align():
        out = []
        for im, (l, t, r, b) in pairs:
            shape = d_sp(im, dlib.rectangle(l, t, r, b))
            out.append(dlib.get_face_chip(im, shape, size=150, padding=0.25))
        return out

    t_ours_align, chips = timed(ours_align)
    t_dlib_align, dlib_chips = timed(dlib_align)
    chips_equal = all(np.array_equal(a, np.asarray(b)) for a, b in zip(chips, dlib_chips))
    chips = np.stack(chips)

    enc.embed(chips[:1])
    t_ours_1, ours_vec = timed(lambda: np.concatenate([enc.embed(c[None]) for c in chips]))
    t_ours_b, ours_vec_b = timed(lambda: np.concatenate(
        [enc.embed(chips[i:i + args.batch]) for i in range(0, len(chips), args.batch)]))
    t_dlib_1, dlib_vec = timed(lambda: np.array([d_rec.compute_face_descriptor(c) for c in chips]))
    t_dlib_b, _ = timed(lambda: d_rec.compute_face_descriptor(list(chips)))

    def rate(n, t):
        return round(n / t, 2)

    report("bench_engine_vs_dlib", {
        "device": device_name(), "torch_threads": torch.get_num_threads(),
        "images": len(images), "megapixels": round(pixels / 1e6, 2), "faces": n_faces,
        "detection": {"ours_faces_per_s": rate(n_faces, t_ours_det), "dlib_faces_per_s": rate(n_faces, t_dlib_det),
                      "ours_images_per_s": rate(len(images), t_ours_det),
                      "dlib_images_per_s": rate(len(images), t_dlib_det),
                      "speedup": round(t_dlib_det / t_ours_det, 2), "same_boxes": same_boxes},
        "landmarks_and_chips": {"ours_faces_per_s": rate(n_faces, t_ours_align),
                                "dlib_faces_per_s": rate(n_faces, t_dlib_align),
                                "speedup": round(t_dlib_align / t_ours_align, 2), "chips_identical": chips_equal},
        "descriptors": {"ours_batch1_per_s": rate(n_faces, t_ours_1), "ours_batched_per_s": rate(n_faces, t_ours_b),
                        "dlib_batch1_per_s": rate(n_faces, t_dlib_1), "dlib_batched_per_s": rate(n_faces, t_dlib_b),
                        "speedup_batch1": round(t_dlib_1 / t_ours_1, 2),
                        "speedup_batched": round(t_dlib_b / t_ours_b, 2),
                        "max_abs_diff": float(np.abs(ours_vec_b - dlib_vec).max()),
                        "batch": args.batch},
    }, args.out)


if __name__ == "__main__":
    main()
