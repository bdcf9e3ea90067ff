"""Nearest neighbours of embeddings without an n x n matrix: exact in blocks, or over k-means cells.

Distances are euclidean. Results are deterministic for a given input order.
"""
from __future__ import annotations

import numpy as np
import torch

_BLOCK_FLOATS = 1 << 23          # about 32 MB of distances per block
EXACT_LIMIT = 8_000              # above this many rows, search k-means cells instead of everything
CELL_SIZE = 96                   # mean points per k-means cell
PROBE = 16                       # at most this many cells searched for the points of one cell
MIN_CANDIDATES = 1024            # ... and no more once this many candidates are gathered


def _partial_sq_dist(q: torch.Tensor, x: torch.Tensor, x_sq: torch.Tensor) -> torch.Tensor:
    """Squared distances less each query's own squared norm (same order along each row)."""
    return torch.addmm(x_sq[None, :], q, x.T, beta=1.0, alpha=-2.0)


def _topk(q: torch.Tensor, x: torch.Tensor, x_sq: torch.Tensor, k: int,
          diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the k nearest rows of ``x`` to each query (not itself if ``diagonal``)."""
    d2 = _partial_sq_dist(q, x, x_sq)
    if diagonal:
        d2.diagonal().fill_(float("inf"))
    val, ind = torch.topk(d2, k, dim=1, largest=False, sorted=True)
    val = (val + q.pow(2).sum(1, keepdim=True)).clamp_min_(0.0).sqrt_()
    return ind.numpy(), val.numpy()


def knn_query(queries: np.ndarray, points: np.ndarray, k: int,
              exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest ``points`` of each query: indices (Q, k) (-1 where fewer) and distances (inf there).

    With ``exclude_self`` the queries are the points themselves and a point is not its own neighbour.
    """
    q_all = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    x = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    n_q, n_x = len(q_all), len(x)
    kk = min(k, n_x - (1 if exclude_self else 0))
    idx = np.full((n_q, k), -1, dtype=np.int64)
    dist = np.full((n_q, k), np.inf, dtype=np.float32)
    if kk <= 0 or n_q == 0:
        return idx, dist
    x_sq = x.pow(2).sum(1)
    step = max(1, _BLOCK_FLOATS // max(n_x, 1))
    for start in range(0, n_q, step):
        q = q_all[start:start + step]
        d2 = _partial_sq_dist(q, x, x_sq)
        if exclude_self:
            rows = torch.arange(len(q))
            d2[rows, rows + start] = float("inf")
        val, ind = torch.topk(d2, kk, dim=1, largest=False, sorted=True)
        idx[start:start + len(q), :kk] = ind.numpy()
        dist[start:start + len(q), :kk] = (val + q.pow(2).sum(1, keepdim=True)).clamp_min_(0.0).sqrt_().numpy()
    return idx, dist


def kmeans(points: np.ndarray, n_cells: int, iterations: int = 8, seed: int = 0,
           sample: int | None = None) -> np.ndarray:
    """Lloyd's k-means from a seeded random start (on at most ``sample`` points); returns centroids."""
    rng = np.random.default_rng(seed)
    data = points
    if sample is not None and len(points) > sample:
        data = points[np.sort(rng.choice(len(points), sample, replace=False))]
    x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    n_cells = min(n_cells, len(x))
    cent = x[torch.from_numpy(np.sort(rng.choice(len(x), n_cells, replace=False)))].clone()
    for _ in range(iterations):
        label = torch.from_numpy(nearest(data, cent.numpy()))
        sums = torch.zeros_like(cent).index_add_(0, label, x)
        counts = torch.bincount(label, minlength=n_cells).to(x.dtype)
        filled = counts > 0
        cent[filled] = sums[filled] / counts[filled, None]
    return cent.numpy()


def nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each point."""
    return knn_query(points, centroids, 1)[0][:, 0]


def knn(points: np.ndarray, k: int, exact_limit: int = EXACT_LIMIT, seed: int = 0,
        probe: int = PROBE, min_candidates: int = MIN_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """k nearest other points of every point: indices (n, k) (-1 where fewer) and distances.

    Exact up to ``exact_limit`` points; beyond, each k-means cell's points search the ``probe`` cells
    nearest to it, stopping once ``min_candidates`` points are gathered (the usual inverted-file
    approximation; what matters for clustering is that close pairs are found, which it does).
    """
    n = len(points)
    if n <= exact_limit:
        return knn_query(points, points, k, exclude_self=True)
    cent = kmeans(points, max(16, n // CELL_SIZE), seed=seed, sample=min(n, 40 * CELL_SIZE * 64))
    cell = nearest(points, cent)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(cent) + 1))
    probes, _ = knn_query(cent, cent, min(probe, len(cent)))   # each cell's nearest cells (itself first)
    x = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    x_sq = x.pow(2).sum(1)
    idx = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.inf, dtype=np.float32)
    for c in range(len(cent)):
        members = order[bounds[c]:bounds[c + 1]]
        if len(members) == 0:
            continue
        # The cell's own points first (so "not itself" is the diagonal), then the nearest cells until
        # there are enough candidates.
        parts, count = [members], len(members)
        for p in probes[c]:
            if count >= min_candidates:
                break
            if p >= 0 and p != c:
                parts.append(order[bounds[p]:bounds[p + 1]])
                count += len(parts[-1])
        cand = np.concatenate(parts)
        kk = min(k, len(cand) - 1)
        if kk <= 0:
            continue
        cand_t = torch.from_numpy(cand)
        xc = x[cand_t]
        ind, val = _topk(xc[:len(members)], xc, x_sq[cand_t], kk, diagonal=True)
        idx[members, :kk] = cand[ind]
        dist[members, :kk] = val
    idx[~np.isfinite(dist)] = -1
    return idx, dist
