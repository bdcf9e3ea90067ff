"""Average-linkage agglomeration on a sparse neighbour graph, with cannot-link constraints.

The linkage of two clusters A and B is the mean squared distance over all their pairs,
``L(A, B) = Q_A/n_A + Q_B/n_B - 2 mu_A . mu_B`` (Q: sum of squared norms, mu: mean), which is exact
from per-cluster sums, so no pairwise matrix is ever held. Candidate pairs come from the k-nearest-
neighbour graph; the closest allowed pair below the threshold is merged, again and again
(sequential average linkage restricted to the candidate graph; ties are broken by cluster index, so
the result is a function of the input order alone). Optionally, two clusters big enough to know
their own spread merge only if they are not much farther apart than their faces are among themselves.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Clusters:
    """Per-cluster sums: vector sum ``s``, sum of squared norms ``q``, size ``n``, anchor id (-1 none)."""

    s: np.ndarray
    q: np.ndarray
    n: np.ndarray
    anchor: np.ndarray

    @classmethod
    def of(cls, vectors: np.ndarray, labels: np.ndarray, n_clusters: int, anchor: np.ndarray) -> "Clusters":
        vectors, labels = np.asarray(vectors), np.asarray(labels)
        s = np.zeros((n_clusters, vectors.shape[1]))
        norms = np.empty(len(vectors))
        for i in range(0, len(vectors), 1 << 16):   # float64 a chunk at a time: the same sums, in order
            x = np.asarray(vectors[i:i + (1 << 16)], dtype=np.float64)
            np.add.at(s, labels[i:i + (1 << 16)], x)
            norms[i:i + len(x)] = np.einsum("ij,ij->i", x, x)
        q = np.bincount(labels, weights=norms, minlength=n_clusters)
        n = np.bincount(labels, minlength=n_clusters).astype(np.float64)
        return cls(s, q, n, np.asarray(anchor, dtype=np.int64).copy())

    def linkage(self, a: np.ndarray, b: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
        """Mean squared distance between the members of clusters ``a[i]`` and ``b[i]``."""
        out = np.empty(len(a))
        for i in range(0, len(a), chunk):
            ai, bi = a[i:i + chunk], b[i:i + chunk]
            na, nb = self.n[ai], self.n[bi]
            out[i:i + chunk] = (self.q[ai] / na + self.q[bi] / nb
                                - 2.0 * np.einsum("ij,ij->i", self.s[ai], self.s[bi]) / (na * nb))
        return np.maximum(out, 0.0)

    def linkage_one(self, c: int, others: np.ndarray) -> np.ndarray:
        """Mean squared distance between cluster ``c`` and each of ``others``."""
        nc, no = self.n[c], self.n[others]
        out = self.q[c] / nc + self.q[others] / no - 2.0 * (self.s[others] @ self.s[c]) / (nc * no)
        return np.maximum(out, 0.0)

    def linkage_to(self, vectors: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        """Mean squared distance from single vectors ``vectors[i]`` to the members of ``clusters[i]``."""
        x = np.asarray(vectors, dtype=np.float64)
        mean = self.s[clusters] / self.n[clusters, None]
        out = np.einsum("ij,ij->i", x, x) + self.q[clusters] / self.n[clusters] - 2.0 * np.einsum("ij,ij->i", x, mean)
        return np.maximum(out, 0.0)

    def merge(self, keep: np.ndarray, gone: np.ndarray) -> None:
        self.s[keep] += self.s[gone]
        self.q[keep] += self.q[gone]
        self.n[keep] += self.n[gone]
        self.anchor[keep] = np.maximum(self.anchor[keep], self.anchor[gone])
        self.n[gone] = 0


    def spread(self, c: int) -> float:
        """Mean squared distance between two faces of cluster ``c`` (``n >= 2``)."""
        n = self.n[c]
        mean = self.s[c] / n
        return float(2.0 * (self.q[c] / n - mean @ mean) * n / (n - 1))

    def spreads(self) -> np.ndarray:
        """:meth:`spread` of every cluster (NaN below two faces)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_sq = np.einsum("ij,ij->i", self.s, self.s) / self.n ** 2
            return 2.0 * (self.q / self.n - mean_sq) * self.n / (self.n - 1)

    def merge_one(self, keep: int, gone: int) -> None:
        self.s[keep] += self.s[gone]
        self.q[keep] += self.q[gone]
        self.n[keep] += self.n[gone]
        if self.anchor[gone] > self.anchor[keep]:
            self.anchor[keep] = self.anchor[gone]
        self.n[gone] = 0


def _pairs(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Unique undirected cluster pairs as codes ``min * size + max`` (self pairs dropped)."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    return np.unique(lo * size + hi)


@dataclass(frozen=True)
class MergeRules:
    """When two clusters may merge (distances are RMS over all pairs of their faces).

    * never above ``threshold``;
    * while one of them has fewer than ``spread_min`` faces, never above the *pair cut*:
      ``pair_threshold``, or, if that is a function, its value for the number of clusters left
      once every merge under ``count_at`` is done (the cut tightens as the library holds more people);
    * when both have ``spread_min`` faces or more, the squared distance must also stay within
      ``spread_ratio`` times the larger of their own spreads (0: no such test).
    """

    threshold: float
    pair_threshold: float | Callable[[int], float]
    count_at: float = 0.0
    spread_ratio: float = 0.0
    spread_min: int = 5


def agglomerate(vectors: np.ndarray, edges: np.ndarray, labels: np.ndarray, anchor: np.ndarray,
                rules: MergeRules, cannot: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Merge clusters along ``edges``, closest first, as long as ``rules`` allow.

    Args:
        vectors: (n, d) embeddings.
        edges: (m, 2) candidate pairs of rows (the neighbour graph).
        labels: (n,) initial cluster of each row, 0..C-1 (rows the user grouped share one).
        anchor: (C,) anchor id of each initial cluster, -1 for none; two anchored clusters never merge.
        cannot: (p, 2) pairs of rows that must never end in one cluster.
    Returns:
        (n,) final cluster of each row (ids among the initial ones), and the pair cut used.
    """
    labels = np.asarray(labels, dtype=np.int64)
    size = int(labels.max()) + 1 if len(labels) else 0
    clusters = Clusters.of(vectors, labels, size, anchor)
    del vectors                      # the sums are all that is needed (a worker's caller lets it go)
    t2 = float(rules.threshold) ** 2
    adaptive = callable(rules.pair_threshold)
    pair2 = float(rules.count_at if adaptive else rules.pair_threshold) ** 2
    banned: dict[int, set[int]] = {}
    if cannot is not None and len(cannot):
        for code in _pairs(labels[cannot[:, 0]], labels[cannot[:, 1]], size).tolist():
            a, b = divmod(code, size)
            banned.setdefault(a, set()).add(b)
            banned.setdefault(b, set()).add(a)
    codes = _pairs(labels[edges[:, 0]], labels[edges[:, 1]], size) if len(edges) else np.zeros(0, np.int64)
    a, b = codes // size, codes % size
    link = clusters.linkage(a, b)
    ok = (link <= t2) & ~((clusters.anchor[a] >= 0) & (clusters.anchor[b] >= 0))
    if banned:
        ok &= ~np.isin(codes, [x * size + y for x, ys in banned.items() for y in ys if x < y])
    a, b, link = a[ok], b[ok], link[ok]
    neighbours: list[set[int]] = [set() for _ in range(size)]
    for x, y in zip(a.tolist(), b.tolist()):
        neighbours[x].add(y)
        neighbours[y].add(x)
    alive = np.ones(size, dtype=bool)
    version = [0] * size
    parent = np.arange(size)

    def best(c: int) -> tuple | None:
        """(linkage, c, partner, versions) of c's closest allowed neighbour; prunes the others."""
        if not neighbours[c]:
            return None
        others = np.fromiter(neighbours[c], dtype=np.int64, count=len(neighbours[c]))
        values = clusters.linkage_one(c, others)
        allowed = values <= t2
        if clusters.anchor[c] >= 0:
            allowed &= clusters.anchor[others] < 0
        if c in banned:
            allowed &= ~np.isin(others, np.fromiter(banned[c], dtype=np.int64))
        if not allowed.all():
            for o in others[~allowed].tolist():
                neighbours[c].discard(o)
                neighbours[o].discard(c)
            others, values = others[allowed], values[allowed]
            if not len(others):
                return None
        i = int(np.argmin(values))
        ties = np.flatnonzero(values == values[i])
        if len(ties) > 1:
            i = int(ties[np.argmin(others[ties])])
        p = int(others[i])
        return (float(values[i]), c, p, version[c], version[p])

    def allowed(x: int, y: int, value: float) -> bool:
        if min(clusters.n[x], clusters.n[y]) < rules.spread_min:
            return value <= pair2
        return not rules.spread_ratio or value <= rules.spread_ratio * max(clusters.spread(x), clusters.spread(y))

    # Sequential average linkage on the candidate graph: always merge the closest allowed pair.
    # The heap holds one entry per cluster: its best partner's linkage, or a lower bound of it
    # (merging never brings clusters closer to a third: L(A+B, C) >= min(L(A, C), L(B, C)), and a
    # pair the rules refuse is dropped), so an entry whose two clusters are unchanged is the closest.
    node, other, value = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([link, link])
    order = np.lexsort((other, value, node))
    first = np.ones(len(order), dtype=bool)
    first[1:] = node[order][1:] != node[order][:-1]
    pick = order[first]
    heap = [(v, x, y, 0, 0) for v, x, y in zip(value[pick].tolist(), node[pick].tolist(), other[pick].tolist())]
    heapq.heapify(heap)
    del codes, a, b, link, ok, node, other, value, order, first, pick   # the loop needs none of them
    while True:
        if adaptive and (not heap or heap[0][0] > pair2):
            # Every merge under the counting cut is done: the pair cut for this many groups.
            pair2 = max(pair2, float(rules.pair_threshold(int(alive.sum()))) ** 2)
            adaptive = False
        if not heap:
            break
        value, x, y, vx, vy = heapq.heappop(heap)
        if value > t2:
            break
        if not alive[x] or vx != version[x]:
            continue
        if not alive[y] or vy != version[y] or y not in neighbours[x] or not allowed(x, y, value):
            if alive[y] and vy == version[y] and y in neighbours[x]:     # refused: never again
                neighbours[x].discard(y)
                neighbours[y].discard(x)
            entry = best(x)
            if entry is not None:
                heapq.heappush(heap, entry)
            continue
        if clusters.anchor[y] >= 0:      # the user's person keeps its id
            x, y = y, x
        clusters.merge_one(x, y)
        alive[y] = False
        parent[y] = x
        version[x] += 1
        for c in neighbours[y]:
            neighbours[c].discard(y)
            if c != x:
                neighbours[c].add(x)
        neighbours[x] = (neighbours[x] | neighbours[y]) - {x, y}
        neighbours[y] = set()
        if y in banned:
            for c in banned.pop(y):
                banned[c].discard(y)
                banned[c].add(x)
                banned.setdefault(x, set()).add(c)
        entry = best(x)
        if entry is not None:
            heapq.heappush(heap, entry)
    # Follow merges to the surviving cluster.
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    return parent[labels], float(np.sqrt(pair2))
