"""Grouping at scale: 100,000 synthetic 128-D faces of many people, through a real library file.

1. A library holding ``--faces`` faces (synthetic dlib-like embeddings of ``--people`` identities with
   Zipf-like album sizes, one face per photo) is regrouped in full: time and peak memory of the
   process that does it (a fresh subprocess), and BCubed against the identities.
2. ``--new`` more faces are added and placed without a full regroup (:func:`assign_work`): time.
3. The grouping function alone, for comparison, and a fixed torch matrix product as the yardstick of
   this machine in the same run (its time is printed; the targets are 60 s, 2 GB and 5 s on 2 cores).

    .venv/bin/python benchmarks/bench_clustering.py [--faces 100000] [--people 2000] [--new 1000] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fill(library_path: Path, vectors: np.ndarray, first: int = 0) -> None:
    """Store one photo per vector, straight into the library's tables (one transaction)."""
    from facereid_engine.library import Library
    lm = np.zeros((5, 2), np.float32).tobytes()
    with Library(library_path) as lib, lib._write() as db:
        now = time.time()
        db.executemany("INSERT INTO photos(id, path, size, mtime_ns, width, height, status, missing, scanned_at) "
                       "VALUES (?, ?, 1, 1, 500, 500, 'done', 0, ?)",
                       [(first + i + 1, f"/synthetic/{first + i:07d}.jpg", now) for i in range(len(vectors))])
        db.executemany("INSERT INTO faces(id, photo_id, left, top, right, bottom, score, landmarks, sharpness) "
                       "VALUES (?, ?, 100, 100, 299, 299, 1.0, ?, 100.0)",
                       [(first + i + 1, first + i + 1, lm) for i in range(len(vectors))])
        db.executemany("INSERT INTO embeddings(face_id, encoder, vector) VALUES (?, 'dlib', ?)",
                       [(first + i + 1, v.tobytes()) for i, v in enumerate(vectors.astype(np.float32))])


def child(args) -> None:
    """In a fresh process: one library operation, then its time and this process's peak memory."""
    import torch
    torch.set_num_threads(args.threads)
    from facereid_engine.library import Library
    from facereid_engine.progress import run
    with Library(args.library) as lib:
        start = time.perf_counter()
        stats = run(lib.group_work(full=args.child == "regroup"))
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "people": stats.people, "unsorted": stats.unsorted}))


def in_child(args, what: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, "--library", str(args.library),
                          "--threads", str(args.threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--new", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", choices=("regroup", "assign"), help=argparse.SUPPRESS)
    ap.add_argument("--library", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    import torch
    torch.set_num_threads(args.threads)
    from facereid_engine.clustering import GroupSettings, group_faces
    from facereid_engine.clustering.quality import bcubed
    from facereid_engine.clustering.synthetic import synthetic_faces
    from facereid_engine.library import Library

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    t = time.perf_counter()
    for _ in range(20):
        a @ b
    print(f"threads {args.threads}; yardstick (20 products of 1024^2 matrices) {time.perf_counter() - t:.3f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    x, truth = synthetic_faces(args.faces + args.new, args.people, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("FACEREID_HOME", tmp)
        args.library = Path(tmp) / "big.sqlite"
        fill(args.library, x[:args.faces])
        full = in_child(args, "regroup")
        with Library(args.library) as lib:
            filed = {f.id: f.person_id for f in lib.faces()}
        labels = np.array([filed.get(i + 1) or -1 for i in range(args.faces)])
        p, r, f1 = bcubed(labels, truth[:args.faces])
        print(f"regroup {args.faces} faces ({args.people} identities) through the library: {full['seconds']:.1f} s, "
              f"peak memory {full['peak_mb']:.0f} MB; {full['people']} people, {full['unsorted']} unsorted; "
              f"BCubed P {p:.4f} R {r:.4f} F1 {f1:.4f}")
        fill(args.library, x[args.faces:], first=args.faces)
        new = in_child(args, "assign")
        with Library(args.library) as lib:
            filed = {f.id: f.person_id for f in lib.faces()}
        labels = np.array([filed.get(i + 1) or -1 for i in range(len(x))])
        p, r, f1 = bcubed(labels, truth)
        print(f"assign {args.new} new faces to it: {new['seconds']:.2f} s (peak {new['peak_mb']:.0f} MB); "
              f"BCubed after: P {p:.4f} R {r:.4f} F1 {f1:.4f}")
    t = time.perf_counter()
    labels = group_faces(x[:args.faces], settings=GroupSettings())
    print(f"group_faces alone on the same {args.faces} faces: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
