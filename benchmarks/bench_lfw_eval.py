"""The full LFW evaluation of one encoder: cold (every image embedded), then cached (another distance).

Reports wall times, images per second, the cached-rerun ratio, and, as the in-run reference, the time
per image of dlib-bin's own pipeline (CNN detector, 5-point shape predictor, ResNet descriptor) on the
first ``--reference`` images of the same set, fed the same decoded pixels.

    .venv/bin/python benchmarks/bench_lfw_eval.py --pairs ../shared/data/lfw/pairs.txt [--flip] [--out FILE]

A fresh FACEREID_HOME (temporary) is used unless ``--home`` is given, so the first run is cold.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import LFW, report as write_report


def dlib_bin_seconds_per_image(paths: list[Path]) -> float:
    """dlib-bin's own detector + shape predictor + descriptor per image (face nearest the centre)."""
    import dlib

    from facereid_engine.images import load_image
    from facereid_engine.paths import dlib_model_path
    detector = dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat")))
    predictor = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
    encoder = dlib.face_recognition_model_v1(str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")))
    images = [load_image(p) for p in paths]
    start = time.perf_counter()
    for image in images:
        found = detector(image, 0)
        h, w = image.shape[:2]
        if found:
            rect = min(found, key=lambda d: ((d.rect.left() + d.rect.right()) / 2 - (w - 1) / 2) ** 2
                       + ((d.rect.top() + d.rect.bottom()) / 2 - (h - 1) / 2) ** 2).rect
        else:
            rect = dlib.rectangle(w // 2 - 48, h // 2 - 48, w // 2 + 47, h // 2 + 47)
        encoder.compute_face_descriptor(image, predictor(image, rect))
    return (time.perf_counter() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=str(LFW / "pairs.txt"))
    parser.add_argument("--images", default=None)
    parser.add_argument("--encoder", default="dlib")
    parser.add_argument("--flip", action="store_true")
    parser.add_argument("--reference", type=int, default=50, help="images timed with dlib-bin (0: skip)")
    parser.add_argument("--home", default=None, help="FACEREID_HOME to use (default: a fresh temporary one)")
    parser.add_argument("--out", default=None, help="also write the report as JSON here")
    args = parser.parse_args()
    os.environ["FACEREID_HOME"] = args.home or tempfile.mkdtemp(prefix="facereid-bench-")

    from facereid_engine.evaluation.runner import evaluate
    from facereid_engine.evaluation.pairsets import read_pairs_file
    from facereid_engine.progress import run

    pairs = read_pairs_file(args.pairs, args.images)
    report: dict = {"pairs": pairs.describe(), "encoder": args.encoder, "flip": args.flip,
                    "cpu_threads": __import__("torch").get_num_threads(), "load_average": os.getloadavg()}
    if args.reference:
        report["dlib_bin_seconds_per_image"] = dlib_bin_seconds_per_image(list(pairs.images[:args.reference]))

    def progress(event):
        if event.done % 640 < 32 or event.done == event.total:
            print(f"  {event.done}/{event.total} {event.message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    cold = run(evaluate(pairs, [args.encoder], ["euclidean"], flip=args.flip), progress)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    warm = run(evaluate(pairs, [args.encoder], ["cosine", "euclidean_l2"], flip=args.flip))
    warm_s = time.perf_counter() - start
    enc = cold.encoders[args.encoder]
    per_image = cold_s / enc.n_images
    report.update({
        "n_images": enc.n_images, "fallbacks": enc.fallbacks,
        "cold_seconds": round(cold_s, 2), "cold_images_per_second": round(enc.n_images / cold_s, 2),
        "cached_seconds": round(warm_s, 3), "cached_from_cache": warm.encoders[args.encoder].cached,
        "cold_over_cached": round(cold_s / warm_s, 1),
        "accuracy": {d: {"mean": r.score.accuracy_mean, "std": r.score.accuracy_std,
                         "tar_at_far_1e-3": r.tar_at_far[1e-3][0]}
                     for res in (cold, warm) for d, r in res.results[args.encoder].items()},
        "load_average_after": os.getloadavg(),
    })
    if args.reference:
        report["speed_vs_dlib_bin"] = round(report["dlib_bin_seconds_per_image"] / per_image, 2)
    write_report("bench_lfw_eval", report, args.out)


if __name__ == "__main__":
    main()
