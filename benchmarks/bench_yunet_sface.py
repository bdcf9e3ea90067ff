"""YuNet and SFace speed: FaceReID's PyTorch ports against onnxruntime on the same files, in one run.

YuNet: faces per image on the group photos and some LFW images (detection, decoding and NMS included
for both; onnxruntime one image at a time, ours one at a time and batched where sizes agree).
SFace: chips per second, onnxruntime one chip at a time (the file's batch size is 1), ours at
batch 1 and batched. Reports the seconds, the ratios ours / onnxruntime (above 1: ours slower) and
the largest differences. Measurements alternate; each figure is the best of ``--rounds``.
Needs onnx and onnxruntime (the test extra).
Run: ``.venv/bin/python benchmarks/bench_yunet_sface.py [--lfw 32] [--threads 2] [--out FILE]``.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from _common import GROUP, LFW, ROOT, report, timed


def ort_sessions(threads: int):
    sys.path.insert(0, str(ROOT / "tests"))
    import onnx_oracle  # the files mended for onnxruntime, as the tests use them

    return (onnx_oracle.session(onnx_oracle.yunet_model(), threads),
            onnx_oracle.session(onnx_oracle.sface_model(), threads))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=32, help="LFW images (250x250) for YuNet and SFace chips")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default=None, help="torch device for ours (default: the best available)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from facereid_engine.detect.yunet import YuNetDetector, padded_size, postprocess
    from facereid_engine.encoders.sface import SFaceEncoder, align_crops
    from facereid_engine.images import load_image

    ort_yunet, ort_sface = ort_sessions(args.threads)
    names = [o.name for o in ort_yunet.get_outputs()]
    detector = YuNetDetector(device=args.device, max_side=None)
    encoder = SFaceEncoder(device=args.device)
    lfw = [load_image(p) for p in sorted((LFW / "images").glob("*/*_0001.jpg"))[:args.lfw]]
    group = [load_image(p) for p in sorted((GROUP / "photos").iterdir())]

    def ort_detect(images):
        out = []
        for image in images:
            h, w = image.shape[:2]
            ph, pw = padded_size(h, w)
            x = np.zeros((1, 3, ph, pw), np.float32)
            x[0, :, :h, :w] = image[:, :, ::-1].transpose(2, 0, 1)
            out.append(postprocess(dict(zip(names, ort_yunet.run(None, {"input": x}))), ph, pw))
        return out

    def ours_single(images):
        return [detector.detect_raw(image) for image in images]

    results: dict = {"device": str(detector.device), "threads": args.threads}
    for label, images in (("yunet_group_photos", group), ("yunet_lfw", lfw)):
        best = {"onnxruntime": float("inf"), "ours_single": float("inf"), "ours_batched": float("inf")}
        for _ in range(args.rounds):
            t, ref = timed(ort_detect, images)
            best["onnxruntime"] = min(best["onnxruntime"], t)
            t, ours = timed(ours_single, images)
            best["ours_single"] = min(best["ours_single"], t)
            t, _ = timed(detector.detect_raw_batch, images)
            best["ours_batched"] = min(best["ours_batched"], t)
        diff = max((float(np.abs(a - b).max()) for a, b in zip(ours, ref) if a.shape == b.shape and len(a)),
                   default=0.0)
        results[label] = {"images": len(images), "faces": int(sum(len(r) for r in ref)),
                          "same_face_counts": all(a.shape == b.shape for a, b in zip(ours, ref)),
                          "max_abs_diff": diff, "seconds": best,
                          "ratio_single": best["ours_single"] / best["onnxruntime"],
                          "ratio_batched": best["ours_batched"] / best["onnxruntime"]}

    chips = np.concatenate([align_crops(img, rows[:, 4:14].reshape(-1, 5, 2))
                            for img, rows in zip(lfw + group, ours_single(lfw + group)) if len(rows)])

    def ort_embed(c):
        x = c.astype(np.float32).transpose(0, 3, 1, 2)
        return np.concatenate([ort_sface.run(None, {"data": x[i:i + 1]})[0] for i in range(len(x))])

    best = {"onnxruntime": float("inf"), "ours_single": float("inf"), "ours_batched": float("inf")}
    for _ in range(args.rounds):
        t, ref = timed(ort_embed, chips)
        best["onnxruntime"] = min(best["onnxruntime"], t)
        t, _ = timed(lambda c: [encoder.embed(c[i:i + 1]) for i in range(len(c))], chips)
        best["ours_single"] = min(best["ours_single"], t)
        t, ours = timed(encoder.embed, chips)
        best["ours_batched"] = min(best["ours_batched"], t)
    results["sface"] = {"chips": len(chips), "max_abs_diff": float(np.abs(ours - ref).max()), "seconds": best,
                        "chips_per_second_ours_batched": len(chips) / best["ours_batched"],
                        "ratio_single": best["ours_single"] / best["onnxruntime"],
                        "ratio_batched": best["ours_batched"] / best["onnxruntime"]}
    rows = ours_single(lfw[:1])[0]
    results["align_crop_seconds"] = timed(align_crops, lfw[0], rows[:, 4:14].reshape(-1, 5, 2), repeat=5)[0]
    report("bench_yunet_sface", results, args.out)


if __name__ == "__main__":
    main()
