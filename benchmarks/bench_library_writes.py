"""Storing photos in a library: one transaction per photo (a scan) against one per 500 (an index import).

Both runs store the same synthetic photos (3 faces each, dlib-sized embeddings and thumbnails) into a
fresh SQLite file in the same folder, so the ratio is what batching buys on this disk.

Run: ``.venv/bin/python benchmarks/bench_library_writes.py [--photos 3000]``
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import report


def _faces(rng: np.random.Generator):
    from facereid_engine.library.types import FaceRecord
    return [FaceRecord(box=(10 * k, 10, 10 * k + 80, 90), score=0.9, landmarks=rng.random((5, 2)) * 80,
                       sharpness=40.0, embedding=rng.standard_normal(128).astype(np.float32),
                       thumbnail=rng.bytes(6000)) for k in range(3)]


def _store(path: Path, photos: int, batch: int) -> float:
    from facereid_engine.library import Library
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    with Library(path) as lib:
        for first in range(0, photos, batch):
            with lib.batch():
                for i in range(first, min(photos, first + batch)):
                    lib.record_photo(f"/archive/{i:07d}.jpg", 1000 + i, i, 4000, 3000, _faces(rng), "dlib", "mmod")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=3000)
    ap.add_argument("--out")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        single = _store(Path(tmp) / "single.sqlite", args.photos, 1)
        batched = _store(Path(tmp) / "batched.sqlite", args.photos, 500)
    report("bench_library_writes", {
        "photos": args.photos, "per_photo_commit_s": round(single, 3), "batch_500_s": round(batched, 3),
        "photos_per_s_single": round(args.photos / single, 1), "photos_per_s_batched": round(args.photos / batched, 1),
        "speed_up": round(single / batched, 2)}, args.out)


if __name__ == "__main__":
    main()
