"""Nearest neighbours of embeddings without an n x n matrix: exact in blocks, or over k-means cells.

Distances are euclidean. Results are deterministic for a given input order.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import torch

_BLOCK_FLOATS = 1 << 23          # about 32 MB of distances per block
EXACT_LIMIT = 8_000              # above this many rows, search k-means cells instead of everything
CELL_SIZE = 96                   # mean points per k-means cell
PROBE = 16                       # at most this many cells searched for the points of one cell
MIN_CANDIDATES = 1024            # ... and no more once this many candidates are gathered
TWO_LEVEL_LIMIT = 120_000        # above this many rows, cells come from a two-level k-means ...
PARTITIONS = 2                   # ... of this many seeds, whose neighbours are merged
EXACT_PAIRS = 2_000_000_000      # knn_search: above this many query x point pairs, search cells


def _floats(a) -> torch.Tensor:
    """A float32 tensor over ``a`` without a copy where it already is one. Embeddings read from the
    library or shared with worker processes are read-only arrays; they are only ever read here, so
    torch's warning about writing through such a tensor does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


@contextmanager
def _one_thread():
    """Small products on one thread: waking a thread pool for each costs more than the work (7x on a
    loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    q_all = _floats(queries)
    x = _floats(points)
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
    x = _floats(data)
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


def _cells(points: np.ndarray, seed: int, two_level_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(centroids, cell of each point): about CELL_SIZE points a cell.

    Up to ``two_level_limit`` points, one k-means; beyond, a coarse k-means of about sqrt(cells)
    cells, each split by its own k-means, so the cost grows as n^1.5 instead of n^2 (a million faces:
    seconds, not many minutes). Its coarse cells split one person's faces (in 128-D, thousands of
    people are about equally far apart: there is no coarse structure), so :func:`knn` merges the
    neighbours of two such partitions. Growing the cells instead lost more neighbours.
    """
    n = len(points)
    n_cells = max(16, n // CELL_SIZE)
    if n <= two_level_limit:
        cent = kmeans(points, n_cells, seed=seed, sample=min(n, 40 * CELL_SIZE * 64))
        return cent, nearest(points, cent)
    n_coarse = int(np.ceil(np.sqrt(n_cells)))
    coarse = kmeans(points, n_coarse, seed=seed, sample=min(n, 256 * n_coarse))
    top = nearest(points, coarse)
    cents, cell, done = [], np.empty(n, np.int64), 0
    for j in range(len(coarse)):
        members = np.flatnonzero(top == j)
        if len(members):
            sub = points[members]
            c = kmeans(sub, max(1, round(len(members) / CELL_SIZE)), seed=seed + 1 + j,
                       sample=min(len(members), 64 * CELL_SIZE * 4))
            cell[members] = done + nearest(sub, c)
            cents.append(c)
            done += len(c)
    return np.concatenate(cents), cell


def _merge(idx: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest of several candidate lists per row (columns of ``idx``), duplicates dropped."""
    order = np.argsort(idx, axis=1, kind="stable")
    idx, dist = np.take_along_axis(idx, order, 1), np.take_along_axis(dist, order, 1)
    dist[:, 1:][idx[:, 1:] == idx[:, :-1]] = np.inf
    dist[idx < 0] = np.inf
    best = np.argsort(dist, axis=1, kind="stable")[:, :k]
    idx, dist = np.take_along_axis(idx, best, 1), np.take_along_axis(dist, best, 1)
    idx[~np.isfinite(dist)] = -1
    return idx, dist


def knn(points: np.ndarray, k: int, exact_limit: int = EXACT_LIMIT, seed: int = 0,
        probe: int = PROBE, min_candidates: int = MIN_CANDIDATES,
        two_level_limit: int = TWO_LEVEL_LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """k nearest other points of every point: indices (n, k) (-1 where fewer) and distances.

    Exact up to ``exact_limit`` points; beyond, each k-means cell's points search the ``probe`` cells
    nearest to it, stopping once ``min_candidates`` points are gathered (the usual inverted-file
    approximation; what matters for clustering is that close pairs are found, which it does). Above
    ``two_level_limit`` points the cells come from a two-level k-means (see :func:`_cells`), done
    with PARTITIONS seeds, and the nearest of all their neighbours are kept.
    """
    n = len(points)
    if n <= exact_limit:
        return knn_query(points, points, k, exclude_self=True)
    x = _floats(points)
    x_sq = x.pow(2).sum(1)
    found = []
    for s in range(1 if n <= two_level_limit else PARTITIONS):
        cent, cell = _cells(points, seed + 1000 * s, two_level_limit)
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(len(cent) + 1))
        probes, _ = knn_query(cent, cent, min(probe, len(cent)))   # each cell's nearest cells (itself first)
        idx = np.full((n, k), -1, dtype=np.int64)
        dist = np.full((n, k), np.inf, dtype=np.float32)
        with _one_thread():
            _search_cells(x, x_sq, order, bounds, probes, k, min_candidates, idx, dist)
        found.append((idx, dist))
    if len(found) > 1:
        return _merge(np.concatenate([f[0] for f in found], 1), np.concatenate([f[1] for f in found], 1), k)
    idx, dist = found[0]
    idx[~np.isfinite(dist)] = -1
    return idx, dist


def _search_cells(x: torch.Tensor, x_sq: torch.Tensor, order: np.ndarray, bounds: np.ndarray,
                  probes: np.ndarray, k: int, min_candidates: int, idx: np.ndarray, dist: np.ndarray) -> None:
    """Fill ``idx``/``dist`` of each cell's points from the cell and its nearest cells."""
    for c in range(len(bounds) - 1):
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


def knn_search(queries: np.ndarray, points: np.ndarray, k: int, seed: int = 0,
               exact_pairs: int = EXACT_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """:func:`knn_query`, exact up to ``exact_pairs`` query-point pairs; beyond, over k-means cells of
    the points (two-level above TWO_LEVEL_LIMIT points, PARTITIONS seeds merged): each query searches
    the cell nearest to it and that cell's nearest cells, up to MIN_CANDIDATES points."""
    if len(queries) * len(points) <= exact_pairs or len(points) <= EXACT_LIMIT:
        return knn_query(queries, points, k)
    x = _floats(points)
    q = _floats(queries)
    x_sq = x.pow(2).sum(1)
    found = []
    for s in range(PARTITIONS):
        cent, cell = _cells(points, seed + 1000 * s, TWO_LEVEL_LIMIT)
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(len(cent) + 1))
        probes, _ = knn_query(cent, cent, min(PROBE, len(cent)))
        home = nearest(queries, cent)
        q_order = np.argsort(home, kind="stable")
        q_bounds = np.searchsorted(home[q_order], np.arange(len(cent) + 1))
        idx = np.full((len(q), k), -1, dtype=np.int64)
        dist = np.full((len(q), k), np.inf, dtype=np.float32)
        with _one_thread():
            for c in np.flatnonzero(np.diff(q_bounds)):
                rows = q_order[q_bounds[c]:q_bounds[c + 1]]
                parts, count = [], 0
                for p in probes[c]:
                    if count >= MIN_CANDIDATES:
                        break
                    if p >= 0:
                        parts.append(order[bounds[p]:bounds[p + 1]])
                        count += len(parts[-1])
                cand = np.concatenate(parts)
                kk = min(k, len(cand))
                if kk:
                    cand_t = torch.from_numpy(cand)
                    ind, val = _topk(q[torch.from_numpy(rows)], x[cand_t], x_sq[cand_t], kk, diagonal=False)
                    idx[rows, :kk], dist[rows, :kk] = cand[ind], val
        found.append((idx, dist))
    return _merge(np.concatenate([f[0] for f in found], 1), np.concatenate([f[1] for f in found], 1), k)
