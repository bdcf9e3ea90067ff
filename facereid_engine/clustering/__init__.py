"""Grouping face embeddings into people, under the user's constraints.

Algorithm (chosen by measurement, see ``benchmarks/bench_albums_lfw.py``):

1. Faces good enough to *seed* (size, detection score, sharpness above :class:`GroupSettings`) and the
   faces the user confirmed form the core. Each person's confirmed faces start as one cluster.
2. A k-nearest-neighbour graph of the core (exact up to 8,000 faces, k-means cells beyond) gives
   the candidate pairs; constrained average linkage (:mod:`.linkage`) merges clusters while the
   root-mean-square distance between their faces is under ``threshold`` and, once both clusters
   are big enough to know their own spread, not much larger than it (``spread_ratio``): a
   density-aware cut, loose for a person with varied photos, strict between two tight look-alikes.
   Merges of small clusters use a *pair cut* that tightens with the number of people in the library
   (from ``threshold`` down to ``tight_threshold``, see :meth:`GroupSettings.pair_threshold`): with
   thousands of people, two strangers are often as close as two photos of one person. Two faces of one photo, a
   "not this person" fact, or two different people of the user never end in one cluster; a person
   split in two by one such conflict is mended (:mod:`.repair`), the conflicting face left out.
3. The other faces (too small, blurred, low score) and the core's leftovers join the nearest cluster
   whose RMS distance to them is under ``join_threshold`` (and within its spread ratio); what fits
   nowhere stays unsorted.

Everything is a function of the input set in a canonical order, so the result does not depend on
the order in which photos were scanned.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..errors import FaceReIDError
from .knn import knn, knn_query, knn_search
from .linkage import Clusters, MergeRules
from .parallel import agglomerate_parallel
from .repair import mend_splits

__all__ = ["GroupSettings", "group_faces", "attach", "suggest_merges", "knn", "knn_query"]

# Measured on dlib descriptors (benchmarks/bench_albums_lfw.py: LFW people with >= 10 images, and all
# of LFW); other encoders are scaled by the ratio of their same-person threshold to dlib's 0.6.
_SCALE_REFERENCE = "dlib"  # the encoder the distances below were measured with
_DLIB = dict(threshold=0.62, tight_threshold=0.48, join_threshold=0.62, suggest_threshold=0.70)
# Where scaling is not enough, values measured the same way for that encoder: fused's different-people
# distances lie further out than dlib's (LFW View 2: the nearest mismatched pair at 0.57, dlib's at
# 0.44), so its tight cut can be looser. bench_albums_lfw.py --encoder fused --full, all of LFW: BCubed
# F1 0.949 at the scaled 0.486, 0.975-0.979 from 0.53 to 0.56 (0.54: precision 0.993); the smaller
# sets never reach the tight cut and are unchanged.
_MEASURED = {"fused": dict(tight_threshold=0.54)}
# The pair cut goes from ``threshold`` (up to GROUPS_LOOSE groups at the tight cut) down to
# ``tight_threshold`` (GROUPS_TIGHT groups and more), linearly in the logarithm of the count.
GROUPS_LOOSE, GROUPS_TIGHT = 500, 6300


@dataclass(frozen=True)
class GroupSettings:
    """Thresholds of the grouping; all may be changed by the user.

    Distances are euclidean between embeddings; the distance of two groups of faces is the
    root-mean-square over all their pairs ("RMS"), and a group's *spread* is the mean squared
    distance between two of its faces.
    """

    threshold: float = _DLIB["threshold"]             # no two groups closer than this stay apart ...
    tight_threshold: float = _DLIB["tight_threshold"]  # ... except small ones in a library of many people
    spread_ratio: float = 1.45       # groups of spread_min faces or more merge only within this ratio
    spread_min: int = 5              # of their squared RMS distance to the larger of their spreads
    join_threshold: float = _DLIB["join_threshold"]   # a face joins a big group within this RMS distance
    suggest_threshold: float = _DLIB["suggest_threshold"]  # suggest merging people closer than this
    min_face_size: int = 40          # px, short side of the box, to seed a person
    min_score: float = 0.3           # detection score to seed a person
    min_sharpness: float = 10.0      # variance of the chip's Laplacian to seed a person
    min_album_size: int = 2          # smaller automatic groups stay unsorted
    neighbours: int = 16             # k of the neighbour graph

    def pair_threshold(self, groups: int) -> float:
        """The cut for merges involving a small group, given the number of groups at the tight cut."""
        span = np.log10(GROUPS_TIGHT / GROUPS_LOOSE)
        where = np.clip(np.log10(max(groups, 1) / GROUPS_LOOSE) / span, 0.0, 1.0)
        return float(self.threshold - (self.threshold - min(self.tight_threshold, self.threshold)) * where)

    def __post_init__(self) -> None:
        for name in ("threshold", "tight_threshold", "join_threshold", "suggest_threshold"):
            if not getattr(self, name) > 0:
                raise FaceReIDError(f"group setting {name} must be positive, not {getattr(self, name)!r}")
        if self.min_album_size < 1 or self.neighbours < 1 or self.spread_min < 2:
            raise FaceReIDError("group settings min_album_size and neighbours must be at least 1, spread_min 2")
        if self.spread_ratio < 0:
            raise FaceReIDError("group setting spread_ratio must be 0 (off) or positive")

    @classmethod
    def for_encoder(cls, encoder: str, **overrides) -> "GroupSettings":
        """Defaults for ``encoder`` (distances scaled to it, or measured for it), with ``overrides`` applied."""
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise FaceReIDError(f"unknown group setting {sorted(unknown)[0]!r}: choose from {', '.join(sorted(known))}")
        base = cls()
        if encoder != _SCALE_REFERENCE:
            from ..thresholds import default_threshold
            scale = default_threshold(encoder, "euclidean")[0] / 0.6
            base = replace(base, **({k: v * scale for k, v in _DLIB.items()} | _MEASURED.get(encoder, {})))
        return replace(base, **overrides)

    def can_seed(self, size: np.ndarray, score: np.ndarray, sharpness: np.ndarray) -> np.ndarray:
        """Which faces are good enough to start a person."""
        return ((np.asarray(size) >= self.min_face_size) & (np.asarray(score) >= self.min_score)
                & (np.asarray(sharpness) >= self.min_sharpness))


def _photo_pairs(photos: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """All pairs of ``rows`` that share a photo."""
    order = rows[np.argsort(photos[rows], kind="stable")]
    p = photos[order]
    out = []
    start = 0
    for end in np.flatnonzero(np.append(p[1:] != p[:-1], True)) + 1:
        group = order[start:end]
        if len(group) > 1:
            i, j = np.triu_indices(len(group), 1)
            out.append(np.stack([group[i], group[j]], 1))
        start = end
    return np.concatenate(out) if out else np.zeros((0, 2), np.int64)


def group_faces(vectors: np.ndarray, *, settings: GroupSettings, photos: np.ndarray | None = None,
                anchors: np.ndarray | None = None, cannot: np.ndarray | None = None,
                can_seed: np.ndarray | None = None) -> np.ndarray:
    """Cluster embeddings into people.

    Args:
        vectors: (n, d) embeddings, in a canonical order (the result is a function of it).
        photos: (n,) photo of each face; faces of one photo never share a cluster.
        anchors: (n,) -1, or the id (0..A-1) of the person the user filed the face under.
        cannot: (p, 2) pairs of faces (rows) that must not share a cluster.
        can_seed: (n,) faces allowed to start or grow a cluster (others may only join one).
    Returns:
        (n,) labels: -1 unsorted, ``a`` for faces joining anchor ``a``, ``A + j`` for new cluster j
        (numbered by their first face).
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    photos = np.arange(n) if photos is None else np.asarray(photos)
    anchors = np.full(n, -1, np.int64) if anchors is None else np.asarray(anchors, np.int64)
    can_seed = np.ones(n, bool) if can_seed is None else np.asarray(can_seed, bool)
    cannot = np.zeros((0, 2), np.int64) if cannot is None else np.asarray(cannot, np.int64).reshape(-1, 2)
    n_anchor = int(anchors.max()) + 1 if n and anchors.max() >= 0 else 0
    if n == 0:
        return np.zeros(0, np.int64)

    core = np.flatnonzero(can_seed | (anchors >= 0))
    # Initial clusters: one per anchor (ids 0..A-1), then one per free core face.
    free = core[anchors[core] < 0]
    init = np.full(n, -1, np.int64)
    init[anchors >= 0] = anchors[anchors >= 0]
    init[free] = n_anchor + np.arange(len(free))
    anchor_of = np.concatenate([np.arange(n_anchor), np.full(len(free), -1)])
    local = np.full(n, -1, np.int64)
    local[core] = np.arange(len(core))
    xc = x if len(core) == n else x[core]   # (no copy of an archive's vectors when every face seeds)
    idx, dist = knn(xc, settings.neighbours)
    rows = np.repeat(np.arange(len(core)), idx.shape[1])
    cols = idx.ravel()
    keep = (cols >= 0) & (dist.ravel() <= 2.0 * settings.threshold)
    edges = np.stack([rows[keep], cols[keep]], 1)
    del idx, dist, rows, cols, keep         # an archive's graph: gigabytes the linkage needs back
    banned = np.concatenate([_photo_pairs(photos, core), cannot])
    banned = local[banned]
    banned = banned[(banned >= 0).all(1)]
    rules = MergeRules(settings.threshold, settings.pair_threshold, settings.tight_threshold,
                       settings.spread_ratio, settings.spread_min)
    labels_core, pair_cut = agglomerate_parallel(xc, edges, init[core], anchor_of, rules, banned)
    labels_core = mend_splits(xc, labels_core, banned, anchors[core] >= 0, settings.threshold)

    labels = np.full(n, -1, np.int64)
    labels[core] = labels_core
    sizes = np.bincount(labels_core[labels_core >= 0], minlength=len(anchor_of))
    small = labels >= n_anchor
    small[small] = sizes[labels[small]] < max(settings.min_album_size, 2)
    labels[small] = -1
    labels = attach(x, labels, photos, settings.join_threshold, cannot, settings.neighbours,
                    settings.spread_ratio, settings.spread_min, pair_cut)
    return _renumber(labels, n_anchor, settings.min_album_size)


def attach(vectors: np.ndarray, labels: np.ndarray, photos: np.ndarray, threshold: float,
           cannot: np.ndarray | None = None, k: int = 16, spread_ratio: float = 0.0,
           spread_min: int = 5, small_threshold: float | None = None) -> np.ndarray:
    """Unsorted faces (label -1) join the nearest cluster within ``threshold`` (RMS distance); for
    clusters of at least ``spread_min`` faces also within ``spread_ratio`` times the cluster's own
    mean squared distance between faces, for smaller ones within ``small_threshold``.

    Clusters keep their statistics (joining faces do not pull them). Best matches go first; a face
    never joins a cluster holding a face of its photo or a face it must not be with.
    """
    labels = np.asarray(labels, np.int64).copy()
    todo = np.flatnonzero(labels < 0)
    filed = np.flatnonzero(labels >= 0)
    if not len(todo) or not len(filed):
        return labels
    x = np.asarray(vectors, np.float32)
    size = int(labels.max()) + 1
    stats = Clusters.of(x[filed], labels[filed], size, np.full(size, -1))
    idx, _ = knn_search(x[todo], x[filed], k)     # exact but for archives (then over cells)
    cand = np.where(idx >= 0, labels[filed][np.maximum(idx, 0)], -1)
    item = np.repeat(np.arange(len(todo)), cand.shape[1])
    cand = cand.ravel()
    ok = cand >= 0
    pairs = np.unique(np.stack([item[ok], cand[ok]], 1), axis=0)
    link = stats.linkage_to(x[todo[pairs[:, 0]]], pairs[:, 1])
    within = link <= float(threshold) ** 2
    big = stats.n[pairs[:, 1]] >= spread_min
    if spread_ratio:
        within &= ~big | (link <= spread_ratio * stats.spreads()[pairs[:, 1]])
    if small_threshold is not None:
        within &= big | (link <= float(small_threshold) ** 2)
    pairs, link = pairs[within], link[within]
    taken = {(int(c), int(photos[f])) for f, c in zip(filed, labels[filed])}
    forbidden: set[tuple[int, int]] = set()
    if cannot is not None and len(cannot):
        for a, b in np.asarray(cannot).reshape(-1, 2):
            forbidden.add((int(a), int(labels[b])))
            forbidden.add((int(b), int(labels[a])))
    for p in np.lexsort((pairs[:, 1], pairs[:, 0], link)):
        face, cluster = int(todo[pairs[p, 0]]), int(pairs[p, 1])
        if labels[face] >= 0 or (cluster, int(photos[face])) in taken or (face, cluster) in forbidden:
            continue
        labels[face] = cluster
        taken.add((cluster, int(photos[face])))
    return labels


def _renumber(labels: np.ndarray, n_anchor: int, min_album_size: int) -> np.ndarray:
    """Anchors keep their ids; new clusters of at least ``min_album_size`` faces get n_anchor, n_anchor+1, ..."""
    out = np.where(labels < n_anchor, labels, -1)
    new = labels >= n_anchor
    if new.any():
        ids, first, counts = np.unique(labels[new], return_index=True, return_counts=True)
        rows = np.flatnonzero(new)
        big = counts >= min_album_size
        order = np.argsort(rows[first[big]])
        mapping = dict(zip(ids[big][order].tolist(), range(n_anchor, n_anchor + int(big.sum()))))
        out[rows] = [mapping.get(int(v), -1) for v in labels[rows]]
    return out


def suggest_merges(vectors: np.ndarray, labels: np.ndarray, photos: np.ndarray, threshold: float,
                   k: int = 8) -> list[tuple[int, int, float]]:
    """Pairs of clusters (a < b) whose RMS distance is under ``threshold`` and that share no photo,
    closest first, as (a, b, distance)."""
    labels = np.asarray(labels, np.int64)
    filed = np.flatnonzero(labels >= 0)
    if not len(filed):
        return []
    ids = np.unique(labels[filed])
    dense = np.searchsorted(ids, labels[filed])
    stats = Clusters.of(np.asarray(vectors)[filed], dense, len(ids), np.full(len(ids), -1))
    means = (stats.s / stats.n[:, None]).astype(np.float32)
    idx, _ = knn(means, k)
    a = np.repeat(np.arange(len(ids)), idx.shape[1])
    b = idx.ravel()
    ok = b >= 0
    codes = np.unique(np.minimum(a[ok], b[ok]) * len(ids) + np.maximum(a[ok], b[ok]))
    a, b = codes // len(ids), codes % len(ids)
    link = stats.linkage(a, b)
    shared = {(int(c), int(p)) for c, p in zip(dense, np.asarray(photos)[filed])}
    by_cluster: dict[int, set[int]] = {}
    for c, p in shared:
        by_cluster.setdefault(c, set()).add(p)
    out = []
    for i in np.argsort(link, kind="stable"):
        if link[i] > threshold ** 2:
            break
        if by_cluster[int(a[i])] & by_cluster[int(b[i])]:
            continue
        out.append((int(ids[a[i]]), int(ids[b[i]]), float(np.sqrt(link[i]))))
    return out
