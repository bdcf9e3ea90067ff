"""Scanning speed: 12-megapixel photos per detection preset, decode-ahead, and incremental rescans.

1. A 12 MP photo (4032 x 3024, JPEG) holding real LFW faces at sizes from 20 to 256 px: for each
   detection preset (working resolution, upsampling) the smallest face found and the time per photo
   (decode, detect, landmarks, chips, embed), on the threads given (2 by default).
2. Pipelining: a folder of such photos scanned with and without decoding ahead.
3. Incremental: a folder of ``--photos`` LFW images scanned, then scanned again unchanged (ratio of the
   two times; nothing may change), then one photo added (only it is decoded).

Speeds are also given as a ratio to a fixed torch matrix product timed in the same run.

    .venv/bin/python benchmarks/bench_scan.py [--threads 2] [--photos 1000]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("FACEREID_DATA", ROOT.parent / "shared" / "data"))
SIZES = (20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 200, 256)


def reference_seconds() -> float:
    """A fixed amount of float32 matrix work, the yardstick of this machine right now."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    start = time.perf_counter()
    for _ in range(20):
        a @ b
    return time.perf_counter() - start


def composite(path: Path, seed: int = 0) -> list[tuple[int, int, int, int]]:
    """Write a 12 MP JPEG with one LFW face per size in ``SIZES``; returns the faces' expected boxes."""
    rng = np.random.default_rng(seed)
    canvas = Image.fromarray(rng.integers(90, 140, size=(3024, 4032, 3), dtype=np.uint8))
    people = sorted(p for p in (DATA / "lfw" / "images").iterdir() if len(list(p.glob("*.jpg"))) >= 20)
    boxes = []
    x, y, row_h = 40, 40, 0
    for i, size in enumerate(SIZES):
        tile = Image.open(sorted(people[(i * 7 + seed) % len(people)].glob("*.jpg"))[0]).convert("RGB")
        scale = size / 95.0                      # the detected box of an LFW face is ~95 px of its 250
        side = max(8, round(250 * scale))
        if x + side > 4000:
            x, y, row_h = 40, y + row_h + 40, 0
        canvas.paste(tile.resize((side, side), Image.Resampling.LANCZOS), (x, y))
        c = side / 2
        boxes.append((round(x + c - size / 2), round(y + c - size / 2), round(x + c + size / 2), round(y + c + size / 2)))
        x, row_h = x + side + 40, max(row_h, side)
    canvas.save(path, quality=90)
    return boxes


def found_sizes(faces, boxes) -> list[int]:
    """The sizes of the planted faces that a detection overlaps (IoU >= 0.3)."""
    hits = []
    for size, (l, t, r, b) in zip(SIZES, boxes):
        for f in faces:
            fl, ft, fr, fb = f.box
            w, h = min(r, fr) - max(l, fl), min(b, fb) - max(t, ft)
            if w > 0 and h > 0 and w * h / ((r - l) * (b - t) + (fr - fl) * (fb - ft) - w * h) >= 0.3:
                hits.append(size)
                break
    return hits


def bench_12mp(tmp: Path, repeat: int) -> None:
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.library.scanning import DETAIL
    photo = tmp / "12mp.jpg"
    boxes = composite(photo)
    t = time.perf_counter()
    image = load_image(photo)
    decode = time.perf_counter() - t
    print(f"12 MP photo {image.shape[1]}x{image.shape[0]}: decode {decode:.2f} s; faces planted at {SIZES} px")
    print(f"{'preset':<8} {'max_side':>8} {'upsample':>8} {'smallest found':>14} {'found':>6} {'s/photo':>8} {'x ref':>6}")
    presets = dict(DETAIL) | {"full": (None, 0)}
    for name, (max_side, upsample) in presets.items():
        pipe = FacePipeline("dlib", max_side=max_side, upsample=upsample)
        pipe.analyse(image[:600, :600])       # load the models
        times = []
        for _ in range(repeat):
            ref = reference_seconds()
            t = time.perf_counter()
            faces = pipe.embed_faces(image, pipe.find_faces(image))
            times.append((time.perf_counter() - t, ref))
        best, ref = min(times)
        hits = found_sizes(faces, boxes)
        print(f"{name:<8} {str(max_side):>8} {upsample:>8} {(min(hits) if hits else '-'):>14} "
              f"{len(hits):>6} {best + decode:>8.2f} {(best + decode) / ref:>6.1f}")


def bench_pipelining(tmp: Path, n: int) -> None:
    from facereid_engine.library import Library
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.progress import run
    from facereid_engine.library.scanning import ScanSettings
    folder = tmp / "big"
    folder.mkdir()
    for i in range(n):
        composite(folder / f"photo{i:02d}.jpg", seed=i + 1)
    pipe = FacePipeline("dlib")
    pipe.analyse(np.zeros((300, 300, 3), np.uint8))          # models loaded before timing
    for run_no, ahead in enumerate((2, 0, 2, 0)):
        with Library(tmp / f"ahead{ahead}-{run_no}.sqlite") as lib:
            t = time.perf_counter()
            run(lib.scan_work(folder, settings=ScanSettings(decode_ahead=ahead, group=False), pipeline=pipe))
            print(f"{n} photos of 12 MP, decode ahead {ahead}: {(time.perf_counter() - t) / n:.2f} s per photo")


def bench_incremental(tmp: Path, n: int) -> None:
    from facereid_engine.library import Library
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.progress import run
    folder = tmp / "lfw"
    images = sorted((DATA / "lfw" / "images").glob("*/*.jpg"))
    pick = images[:: max(1, len(images) // (n + 1))][: n + 1]
    for p in pick[:n]:
        (folder / p.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, folder / p.parent.name / p.name)
    pipe = FacePipeline("dlib")
    with Library(tmp / "incremental.sqlite") as lib:
        t = time.perf_counter()
        first = run(lib.scan_work(folder, pipeline=pipe))
        t1 = time.perf_counter() - t
        before = lib.faces()
        t = time.perf_counter()
        second = run(lib.scan_work(folder, pipeline=pipe))
        t2 = time.perf_counter() - t
        same = lib.faces() == before
        shutil.copy2(pick[n], folder / pick[n].name)
        t = time.perf_counter()
        third = run(lib.scan_work(folder, pipeline=pipe))
        t3 = time.perf_counter() - t
    print(f"{n} photos: first scan {t1:.1f} s ({first.faces} faces, {first.grouped.people} people); "
          f"unchanged rescan {t2:.2f} s = {100 * t2 / t1:.2f}% of the first, {second.decoded} decoded, "
          f"albums unchanged: {same}; one photo added: {third.decoded} decoded, {t3:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--photos", type=int, default=1000, help="photos for the incremental scan")
    ap.add_argument("--big", type=int, default=6, help="12 MP photos for the pipelining check")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=(), choices=("12mp", "pipelining", "incremental"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("FACEREID_HOME", tempfile.mkdtemp(prefix="facereid-bench-"))
    print(f"torch threads {torch.get_num_threads()}, reference matrix work {reference_seconds():.3f} s, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        if "12mp" not in args.skip:
            bench_12mp(Path(tmp), args.repeat)
        if "pipelining" not in args.skip:
            bench_pipelining(Path(tmp), args.big)
        if "incremental" not in args.skip:
            bench_incremental(Path(tmp), args.photos)


if __name__ == "__main__":
    main()
