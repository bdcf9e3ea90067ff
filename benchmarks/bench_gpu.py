"""The GPU path, measured (and the same table on the CPU when there is no GPU): one command, < 5 minutes.

On the engine's device (CUDA when present, else the CPU; ``FACEREID_DEVICE`` overrides), printed as
one table with the device named:

1. embedding: faces/s of each encoder (dlib, sface, fused) at several batch sizes, on real LFW chips,
   and the largest difference from the CPU's embeddings of the same chips (the bar: <= 1e-4; on the
   CPU it is 0 by construction);
2. detection: images/s of MMOD and YuNet on LFW images (250 x 250, a batch of one size per network
   pass) and on 12 MP photos (a group photo resized to 4032 x 3024);
3. end to end: images/s of a scan of LFW images into a library (decode ahead, detect, landmarks, chips,
   embed, store) and of the cluster worker's batched path (decode on a thread pool, one embedding
   call per batch: what ``facereid index`` actors run);
4. JPEG decoding: images/s of Pillow (the engine's decoder), of ``torchvision.io.decode_jpeg`` on the
   CPU, and on CUDA when present, on LFW JPEGs and on the 12 MP photo.

Each measurement runs for about ``--seconds`` (at least one pass). The goals on one data-centre GPU
(issue 13): >= 2,000 faces/s embedding, >= 300 LFW images/s end to end.

    .venv/bin/python benchmarks/bench_gpu.py [--seconds 2] [--images 48] [--threads 2] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import GROUP, LFW, report

import numpy as np
import torch
from PIL import Image

ENCODERS = ("dlib", "sface", "fused")


def rate(fn, items: int, seconds: float) -> float:
    """items/s of ``fn`` (one untimed warm-up call, then repeated for about ``seconds``)."""
    fn()
    sync()
    start, runs = time.perf_counter(), 0
    while True:
        fn()
        runs += 1
        sync()
        spent = time.perf_counter() - start
        if spent >= seconds:
            return items * runs / spent


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def lfw_files(n: int) -> list[Path]:
    people = sorted((LFW / "images").iterdir())
    return [sorted(p.glob("*.jpg"))[0] for p in people[:n]]


def photo_12mp(folder: Path) -> Path:
    """A group photo resized to 4032 x 3024, saved as a JPEG."""
    src = GROUP / "photos" / "facenet-pytorch_multiface_friends_cast.jpg"
    path = folder / "photo_12mp.jpg"
    Image.open(src).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC).save(path, quality=92)
    return path


def embedding_rows(device, files, seconds, batches) -> tuple[list, dict]:
    from facereid_engine.encoders import card, get_encoder
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import FacePipeline
    rows, diffs = [], {}
    images = [load_image(f) for f in files]
    for name in ENCODERS:
        if not card(name).available:
            rows.append((f"embed {name}", "-", f"unavailable: {card(name).unavailable}"))
            continue
        cpu_pipe = FacePipeline(name, device=torch.device("cpu"))
        chips = np.concatenate([cpu_pipe.chips(im, cpu_pipe.find_faces(im)[:1]) for im in images])
        encoder = get_encoder(name, device)
        diffs[name] = float(np.abs(encoder.embed(chips) - get_encoder(name, "cpu").embed(chips)).max())
        for bs in batches:
            batch = chips[np.arange(bs) % len(chips)]
            inner = {e: getattr(e, "batch_size", None) for e in _parts(encoder)}
            for e in inner:
                if inner[e] is not None:
                    e.batch_size = max(bs, 1)       # one network pass per call
            try:
                rows.append((f"embed {name}", f"batch {bs}", f"{rate(lambda: encoder.embed(batch), bs, seconds):,.0f} faces/s"))
            finally:
                for e, b in inner.items():
                    if b is not None:
                        e.batch_size = b
    return rows, diffs


def _parts(encoder) -> list:
    return [encoder] + [getattr(encoder, k) for k in ("dlib", "sface") if hasattr(encoder, k)]


def detection_rows(device, files, big: Path, seconds) -> list:
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import FacePipeline
    rows = []
    lfw = [load_image(f) for f in files]
    photo = load_image(big)
    for detector in ("mmod", "yunet"):
        pipe = FacePipeline("dlib", detector=detector, device=device)
        rows.append((f"detect {detector}", f"LFW 250x250, {len(lfw)} a pass",
                     f"{rate(lambda: pipe.detect_many(lfw), len(lfw), seconds):,.1f} images/s"))
        rows.append((f"detect {detector}", f"12 MP (detection at {pipe.max_side} px)",
                     f"{rate(lambda: pipe.detect(photo), 1, seconds):,.2f} images/s"))
    return rows


def end_to_end_rows(device, files, seconds) -> list:
    from facereid_engine.cluster.worker import index_photos
    from facereid_engine.library import Library
    from facereid_engine.library.scanning import ScanSettings
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.progress import run
    rows = []
    pipe = FacePipeline("dlib", device=device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for f in files:
            shutil.copy2(f, folder / f.name)
        pipe.find_faces(np.asarray(Image.open(files[0]).convert("RGB")))     # models loaded before timing
        start = time.perf_counter()
        with Library(Path(tmp) / "lib.sqlite") as lib:
            run(lib.scan_work(folder, ScanSettings(group=False), pipeline=pipe))
        rows.append(("scan (end to end)", f"{len(files)} LFW images into a library",
                     f"{len(files) / (time.perf_counter() - start):,.1f} images/s"))
        copies = sorted(folder.iterdir())
        photos = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in copies]
        with ThreadPoolExecutor(max_workers=4) as pool:
            per = rate(lambda: index_photos(pipe, photos, pool), len(photos), seconds)
        rows.append(("index worker (end to end)", f"{len(files)} LFW images a batch, no store",
                     f"{per:,.1f} images/s"))
    return rows


def decode_rows(device, files, big: Path, seconds) -> list:
    from torchvision.io import decode_jpeg
    from facereid_engine.images import load_image
    rows = []
    for label, paths in ((f"LFW JPEG, {len(files)}", files), ("12 MP JPEG", [big])):
        data = [torch.frombuffer(bytearray(Path(p).read_bytes()), dtype=torch.uint8) for p in paths]
        with ThreadPoolExecutor(max_workers=4) as pool:
            rows.append(("decode Pillow (engine)", label + ", 4 threads",
                         f"{rate(lambda: list(pool.map(load_image, paths)), len(paths), seconds):,.1f} images/s"))
        rows.append(("decode torchvision", label + ", CPU",
                     f"{rate(lambda: decode_jpeg(data), len(paths), seconds):,.1f} images/s"))
        if torch.cuda.is_available():
            rows.append(("decode torchvision", label + ", CUDA (batched)",
                         f"{rate(lambda: decode_jpeg(data, device='cuda'), len(paths), seconds):,.1f} images/s"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    ap.add_argument("--images", type=int, default=None, help="LFW images (default 48 on CPU, 512 on CUDA)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="also write the results as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from facereid_engine.device import best_device, device_name
    device = best_device()
    cuda = device.type == "cuda"
    n = args.images or (512 if cuda else 48)
    batches = (1, 32, 256, 1024) if cuda else (1, 8, 32, 128)
    files = lfw_files(n)
    began = time.perf_counter()
    print(f"device: {device_name(device)} ({device}); torch {torch.__version__}; {n} LFW images; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        big = photo_12mp(Path(tmp))
        rows, diffs = embedding_rows(device, files[:64], args.seconds, batches)
        rows += detection_rows(device, files[:32 if cuda else 16], big, args.seconds)
        rows += end_to_end_rows(device, files, args.seconds)
        rows += decode_rows(device, files, big, args.seconds)
    for name, d in diffs.items():
        rows.append((f"embed {name}", "largest |device - CPU|", f"{d:.2e} ({'ok' if d <= 1e-4 else 'OVER 1e-4'})"))
    width = [max(len(str(r[i])) for r in rows) for i in range(3)]
    print(f"\n{'what'.ljust(width[0])}  {'on'.ljust(width[1])}  result")
    for r in rows:
        print(f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2]}")
    print(f"\n{time.perf_counter() - began:.0f} s in all on {device_name(device)}")
    if args.out:
        report("bench_gpu", {"device": device_name(device), "rows": rows, "max_diff": diffs}, args.out)


if __name__ == "__main__":
    main()
