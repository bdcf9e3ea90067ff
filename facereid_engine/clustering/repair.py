"""Mending clusters that a cannot-link split: one identity must not fall in two because of one photo.

Constrained agglomeration keeps two faces of one photo apart by never merging their clusters. When
those two faces are the same person (a reflection, a photo of a photo, a double detection), the
person's other faces split between the two clusters. The repair merges such a pair of clusters when
they are close (RMS distance under the threshold) and only a few of their faces conflict, and takes the
conflicting faces of one side out (they stay unsorted or join elsewhere), so no constraint is broken.
"""
from __future__ import annotations

import numpy as np

from .linkage import Clusters


def mend_splits(vectors: np.ndarray, labels: np.ndarray, cannot: np.ndarray, anchored: np.ndarray,
                threshold: float, max_conflicts: float = 0.1) -> np.ndarray:
    """Merge close cluster pairs separated only by a few cannot-links; returns new labels.

    Args:
        labels: (n,) clusters (-1 none); anchored: (n,) faces that must stay where they are (the
        user's); cannot: (p, 2) row pairs never to share a cluster. A pair of clusters qualifies when
        the faces in conflict on the side given up are at most ``max_conflicts`` of the smaller cluster
        (at least one face), none of them anchored, and the two are not both anchored clusters.
    """
    labels = np.asarray(labels, np.int64).copy()
    if not len(cannot) or not (labels >= 0).any():
        return labels
    cannot = np.asarray(cannot, np.int64)
    t2 = float(threshold) ** 2
    for _ in range(1000):
        la, lb = labels[cannot[:, 0]], labels[cannot[:, 1]]
        live = (la >= 0) & (lb >= 0) & (la != lb)
        if not live.any():
            break
        a, b = np.minimum(la[live], lb[live]), np.maximum(la[live], lb[live])
        ends = cannot[live]
        size = int(labels.max()) + 1
        codes, first = np.unique(a * size + b, return_index=True)
        filed = np.flatnonzero(labels >= 0)
        stats = Clusters.of(vectors[filed], labels[filed], size, np.full(size, -1))
        ca, cb = codes // size, codes % size
        link = stats.linkage(ca, cb)
        cluster_anchored = np.zeros(size, bool)
        cluster_anchored[labels[anchored & (labels >= 0)]] = True
        used: set[int] = set()
        merged = False
        for k in np.lexsort((codes, link)):
            if link[k] > t2:
                break
            x, y = int(ca[k]), int(cb[k])
            if x in used or y in used or (cluster_anchored[x] and cluster_anchored[y]):
                continue
            pairs = ends[(a * size + b) == codes[k]]
            side = {x: set(), y: set()}
            for i, j in pairs.tolist():
                side[int(labels[i])].add(i)
                side[int(labels[j])].add(j)
            options = sorted((len(side[c]), stats.n[c], c) for c in (x, y))
            for count, n_c, give in options:
                if count > max(1.0, max_conflicts * min(stats.n[x], stats.n[y])):
                    continue
                if anchored[list(side[give])].any():
                    continue
                keep = y if give == x else x
                out = np.fromiter(side[give], np.int64)
                labels[out] = -1
                if cluster_anchored[give] and not cluster_anchored[keep]:
                    keep, give = give, keep
                labels[labels == give] = keep
                used.update((x, y))
                merged = True
                break
        if not merged:
            break
    return labels
