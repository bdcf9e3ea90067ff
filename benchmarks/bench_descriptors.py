"""Descriptor speed and agreement: FaceReID's dlib ResNet port against dlib-bin, on the same chips, in one run.

Chips are cut by dlib itself (HOG detector, 5 landmarks, get_face_chip) from LFW images. Reports
descriptors per second for dlib-bin (one chip at a time), ours at batch 1 and batched, the ratios
ours / dlib, and the largest descriptor difference. Measurements alternate between the two so that
load from other processes hits both alike; each figure is the best of ``--rounds``.
Run: ``.venv/bin/python benchmarks/bench_descriptors.py [--chips 64] [--batch 32] [--threads 2] [--out FILE]``.
On a machine shared with other busy processes, one torch thread is often faster than two.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from _common import LFW, report, timed


def dlib_chips(n: int) -> np.ndarray:
    import dlib
    from facereid_engine.paths import dlib_model_path

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
    chips = []
    for path in sorted((LFW / "images").glob("*/*_0001.jpg")):
        image = np.asarray(Image.open(path).convert("RGB"))
        boxes = detector(image, 0)
        if boxes:
            box = max(boxes, key=lambda b: b.area())
            chips.append(dlib.get_face_chip(image, predictor(image, box), size=150, padding=0.25))
        if len(chips) == n:
            break
    return np.stack(chips)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chips", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", default=None, help="torch device for ours (default: best_device())")
    ap.add_argument("--out")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    import dlib
    from facereid_engine.device import device_name
    from facereid_engine.encoders.dlib_resnet import MODEL_FILE, DlibEncoder
    from facereid_engine.paths import dlib_model_path

    chips = dlib_chips(args.chips)
    n = len(chips)
    reference = dlib.face_recognition_model_v1(str(dlib_model_path(MODEL_FILE)))
    single = DlibEncoder(device=args.device, batch_size=1)
    batched = DlibEncoder(device=args.device, batch_size=args.batch)
    dlib_subset = chips[: min(n, 16)]  # dlib is slow: time it on a part

    def run_dlib():
        return np.array([np.array(reference.compute_face_descriptor(c)) for c in dlib_subset])

    single.embed(chips[:2]), batched.embed(chips[: args.batch])  # warm-up
    best = {"dlib": np.inf, "ours_b1": np.inf, "ours_batched": np.inf}
    for _ in range(args.rounds):
        t, dlib_desc = timed(run_dlib)
        best["dlib"] = min(best["dlib"], t / len(dlib_subset))
        t, ours_b1 = timed(single.embed, chips)
        best["ours_b1"] = min(best["ours_b1"], t / n)
        t, ours = timed(batched.embed, chips)
        best["ours_batched"] = min(best["ours_batched"], t / n)

    all_dlib = np.array([np.array(d) for d in reference.compute_face_descriptor(list(chips))])
    per_s = {k: 1.0 / v for k, v in best.items()}
    report("bench_descriptors", {
        "device": device_name(batched.device),
        "torch_threads": torch.get_num_threads(),
        "chips": n,
        "batch": args.batch,
        "descriptors_per_s": {k: round(v, 1) for k, v in per_s.items()},
        "speedup_vs_dlib": {
            "batch_1": round(per_s["ours_b1"] / per_s["dlib"], 1),
            f"batch_{args.batch}": round(per_s["ours_batched"] / per_s["dlib"], 1),
        },
        "max_abs_diff_vs_dlib": float(np.abs(ours - all_dlib).max()),
        "max_abs_diff_batch1_vs_batched": float(np.abs(ours - ours_b1).max()),
        "max_abs_diff_dlib_subset_repeat": float(np.abs(dlib_desc - all_dlib[: len(dlib_subset)]).max()),
    }, args.out)


if __name__ == "__main__":
    main()
