"""The linkage of an archive on every core: :func:`~.linkage.agglomerate` per part of the graph, in
worker processes, with the same result as one process.

Merges only happen along the candidate graph's edges whose linkage is under the threshold, so
clusters of two connected components of that graph never meet: each part (a set of components) is
agglomerated on its own, in the same order as in one run. The one global quantity, the number of
clusters left once every merge under the counting cut is done (from which the pair cut follows), is
summed over the parts while they wait, and sent back to them. The linkage is a Python loop, so the
parts run in processes (``python .../clustering/linkage_worker.py``), fed with NumPy arrays
without pickles; if a worker cannot start, everything runs here, as before.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .linkage import Clusters, MergeRules, _pairs, agglomerate
from .linkage_worker import _read, _write

#: Below this many rows one process is quicker than starting workers.
PARALLEL_MIN = 150_000


def components(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected component of each node (its smallest node) of the graph with edges ``a[i]-b[i]``."""
    parent = np.arange(n_nodes)
    while True:
        pa, pb = parent[a], parent[b]
        lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
        moved = lo != hi
        if not moved.any():
            return parent
        np.minimum.at(parent, hi[moved], lo[moved])
        while True:                          # pointer jumping: every node to its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def agglomerate_parallel(vectors: np.ndarray, edges: np.ndarray, labels: np.ndarray, anchor: np.ndarray,
                         rules: MergeRules, cannot: np.ndarray | None = None,
                         workers: int | None = None) -> tuple[np.ndarray, float]:
    """:func:`~.linkage.agglomerate`, the graph's components shared among ``workers`` processes
    (default: the CPUs this process may use, at most 8)."""
    labels = np.asarray(labels, np.int64)
    workers = workers or min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers < 2 or len(labels) < PARALLEL_MIN or not len(edges):
        return agglomerate(vectors, edges, labels, anchor, rules, cannot)
    size = int(labels.max()) + 1
    clusters = Clusters.of(vectors, labels, size, anchor)
    codes = _pairs(labels[edges[:, 0]], labels[edges[:, 1]], size)
    a, b = codes // size, codes % size
    link = clusters.linkage(a, b)
    live = (link <= float(rules.threshold) ** 2) & ~((clusters.anchor[a] >= 0) & (clusters.anchor[b] >= 0))
    comp = components(size, a[live], b[live])
    del clusters, codes, link
    ids, count = np.unique(comp, return_counts=True)
    lonely = int((count == 1).sum())            # clusters with no partner: they stay as they are
    part = np.full(size, -1, np.int64)
    load = np.zeros(workers)
    part_of_comp = {}
    for i in np.argsort(-count, kind="stable"):
        if count[i] > 1:
            w = int(np.argmin(load))
            part_of_comp[int(ids[i])] = w
            load[w] += count[i]
    if not part_of_comp:
        return agglomerate(vectors, edges, labels, anchor, rules, cannot)
    lookup = np.full(size, -1, np.int64)
    lookup[list(part_of_comp)] = list(part_of_comp.values())
    part = lookup[comp]
    try:
        procs = [_start() for w in range(workers) if (part == w).any()]
    except OSError:
        return agglomerate(vectors, edges, labels, anchor, rules, cannot)
    row_part = part[labels]
    maps = []
    for w, proc in enumerate(procs):
        own = np.flatnonzero(part == w)                  # this part's clusters, in order (ties keep their order)
        rows = np.flatnonzero(row_part == w)
        local = np.full(len(labels), -1, np.int64)
        local[rows] = np.arange(len(rows))
        sub_edges = local[edges]
        sub_edges = sub_edges[(sub_edges >= 0).all(1)]
        sub_cannot = local[cannot] if cannot is not None and len(cannot) else np.zeros((0, 2), np.int64)
        sub_cannot = sub_cannot[(sub_cannot >= 0).all(1)]
        header = {"threshold": rules.threshold, "count_at": rules.count_at, "spread_ratio": rules.spread_ratio,
                  "spread_min": rules.spread_min, "adaptive": callable(rules.pair_threshold),
                  "pair": None if callable(rules.pair_threshold) else rules.pair_threshold}
        _send(proc, header, [np.asarray(vectors)[rows], sub_edges, np.searchsorted(own, labels[rows]),
                             np.asarray(anchor)[own], sub_cannot])
        maps.append((rows, own))
    cut_sent = None
    if callable(rules.pair_threshold):
        left = lonely + sum(json.loads(p.stdout.readline())["left"] for p in procs)
        cut_sent = float(rules.pair_threshold(left))
        for proc in procs:
            proc.stdin.write(json.dumps({"cut": cut_sent}).encode() + b"\n")
            proc.stdin.flush()
    out = labels.copy()
    cut = float(rules.count_at if callable(rules.pair_threshold) else rules.pair_threshold)
    for proc, (rows, own) in zip(procs, maps):
        result = _read(proc.stdout)
        cut = max(cut, float(_read(proc.stdout)))
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"a grouping worker failed (exit {proc.returncode})")
        out[rows] = own[result]
    return out, cut


def _start() -> subprocess.Popen:
    """A worker: the worker file run by this Python, so it imports NumPy and the linkage only (not
    the engine and torch: 840 MB and 5 s a process)."""
    if getattr(sys, "frozen", False):
        raise OSError("no Python interpreter to run workers with")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("linkage_worker.py"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def _send(proc: subprocess.Popen, header: dict, arrays: list[np.ndarray]) -> None:
    proc.stdin.write(json.dumps(header).encode() + b"\n")
    for array in arrays:
        _write(proc.stdin, array)
    proc.stdin.flush()
