"""Grouping at archive scale: 1,000,000 synthetic 128-D faces, time and peak memory on 2 cores.

The faces are dlib-like synthetic embeddings (:func:`~facereid_engine.clustering.synthetic.synthetic_faces`)
with Zipf-like identity sizes, at the density of ``bench_clustering.py`` (100,000 faces of 2,000
identities, so 1,000,000 of 20,000 by default). Each size runs in a fresh process (its own peak
memory, ``ru_maxrss``, and the sum with its linkage workers, sampled); the time of each stage of
:func:`~facereid_engine.clustering.group_faces` (neighbour graph, linkage, mending, attaching) is
printed with the total, the CPU time and BCubed against the identities. Targets: <= 5 minutes and <= 8 GB at 1,000,000 faces on 2 cores.

    .venv/bin/python benchmarks/bench_grouping_scale.py [--faces 1000000 ...] [--per-person 50] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed_stages(module, names: list[str], log: dict) -> None:
    """Wrap ``module.<name>`` so each call adds its seconds to ``log[name]``."""
    for name in names:
        fn = getattr(module, name)

        def wrapper(*a, _fn=fn, _name=name, **k):
            start = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                log[_name] = log.get(_name, 0.0) + time.perf_counter() - start
        setattr(module, name, wrapper)


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("Pss:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def _family(pid: int) -> list[int]:
    """``pid`` and its child processes (the linkage workers)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return [pid] + kids


class PeakMemory(threading.Thread):
    """Samples the proportional set size (shared pages split) of this process and its workers, summed,
    every 0.2 s; ``peak`` in MB. (A worker's own ru_maxrss counts the parent's pages at fork time.)"""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, sum(_pss_mb(p) for p in _family(os.getpid())))
            time.sleep(0.2)


def child(faces: int, people: int, threads: int, seed: int, per_photo: int) -> dict:
    """In a fresh process: synthesise, group, measure."""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    import facereid_engine.clustering as clustering
    from facereid_engine.clustering.quality import bcubed
    from facereid_engine.clustering.synthetic import synthetic_faces

    x, truth = synthetic_faces(faces, people, seed=seed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    photos = np.arange(faces) // per_photo   # faces of one photo are never one person
    stages: dict[str, float] = {}
    _timed_stages(clustering, ["knn", "agglomerate_parallel", "mend_splits", "attach"], stages)
    sampler = PeakMemory()
    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    labels = clustering.group_faces(x, settings=clustering.GroupSettings(), photos=photos)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    sampler.running = False
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)     # the linkage's worker processes
    p, r, f1 = bcubed(labels, truth)
    return {"faces": faces, "identities": people, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "stages": {k: round(v, 1) for k, v in stages.items()},
            "peak_mb": round(peak), "data_mb": round(base), "workers_cpu_seconds": round(kids.ru_utime + kids.ru_stime, 1),
            "sum_peak_mb": round(sampler.peak), "albums": int(labels.max() + 1),
            "unsorted": int((labels < 0).sum()), "bcubed": [round(p, 4), round(r, 4), round(f1, 4)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--per-person", type=int, default=50, help="mean faces per identity (100k/2,000 = 50)")
    ap.add_argument("--per-photo", type=int, default=1, help="faces per photo (kept apart)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one size")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, max(1, args.child // args.per_person), args.threads, args.seed, args.per_photo)))
        return
    print(f"threads {args.threads}; load average {os.getloadavg()[0]:.1f} (wall times grow with the load: "
          f"CPU time is what the grouping itself needs)")
    for n in args.faces:
        cmd = [sys.executable, __file__, "--child", str(n), "--per-person", str(args.per_person),
               "--threads", str(args.threads), "--seed", str(args.seed), "--per-photo", str(args.per_photo)]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
        except subprocess.TimeoutExpired:
            print(f"{n} faces: over {args.timeout:.0f} s, stopped")
            continue
        if out.returncode:
            print(f"{n} faces: failed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        stages = ", ".join(f"{k} {v} s" for k, v in r["stages"].items())
        print(f"{n:>9,} faces ({r['identities']:,} identities): {r['seconds']} s, CPU {r['cpu_seconds']} s "
              f"+ {r['workers_cpu_seconds']} s in linkage workers ({stages}); peak memory {r['peak_mb']:,} MB "
              f"(data alone {r['data_mb']:,} MB), with the workers {r['sum_peak_mb']:,} MB (PSS sampled); "
              f"{r['albums']:,} albums, "
              f"{r['unsorted']:,} unsorted; BCubed P/R/F1 {r['bcubed']}", flush=True)


if __name__ == "__main__":
    main()
