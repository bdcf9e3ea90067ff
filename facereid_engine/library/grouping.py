"""Regrouping the library's faces into people: the user's facts in, the clustering's guesses out.

* :func:`regroup_work` clusters every visible face again (the canonical, order-independent result):
  confirmed faces anchor their person, named people keep their id and name, unnamed albums keep
  their id when most of their faces stay together.
* :func:`assign_work` is the quick path for a large library: only faces that are unsorted (new ones
  included) are placed, into the closest person or into new people among themselves.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..clustering import GroupSettings, attach, group_faces, suggest_merges
from ..progress import Progress, Work
from .types import GroupStats, Suggestion

FULL_REGROUP_LIMIT = 50_000   # above this many faces a scan only places the new faces


@dataclass
class _Faces:
    """The visible faces with an embedding, sorted canonically (path, box)."""

    ids: np.ndarray
    photos: np.ndarray
    person: np.ndarray       # -1: none
    confirmed: np.ndarray
    can_seed: np.ndarray
    vectors: np.ndarray
    named: set[int]
    negatives: list[tuple[int, int]]


def _load(library, settings: GroupSettings) -> _Faces:
    """The library's faces (through its public :meth:`~.store.Library.faces_to_group`), as arrays."""
    found = library.faces_to_group()
    rows, named, negatives = list(found.rows), found.named, found.negatives
    rows.sort(key=lambda r: (r[2], r[3], r[4], r[5], r[6], r[0]))
    col = lambda i, t: np.array([r[i] for r in rows], dtype=t)  # noqa: E731
    size = np.minimum(col(5, np.int64) - col(3, np.int64), col(6, np.int64) - col(4, np.int64)) + 1
    vectors = (np.frombuffer(b"".join(r[11] for r in rows), dtype=np.float32).reshape(len(rows), -1)
               if rows else np.zeros((0, 1), np.float32))
    return _Faces(ids=col(0, np.int64), photos=col(1, np.int64), person=col(9, np.int64),
                  confirmed=col(10, bool), can_seed=settings.can_seed(size, col(7, float), col(8, float)),
                  vectors=vectors, named=named, negatives=negatives)


def _cannot(faces: _Faces) -> np.ndarray:
    """Face pairs (rows) that "not this person" facts keep apart: the face and the person's faces now."""
    if not faces.negatives:
        return np.zeros((0, 2), np.int64)
    row = {int(f): i for i, f in enumerate(faces.ids)}
    members: dict[int, list[int]] = {}
    for i, p in enumerate(faces.person.tolist()):
        if p >= 0:
            members.setdefault(p, []).append(i)
    pairs = [(row[f], j) for f, p in faces.negatives if f in row for j in members.get(p, ())]
    return np.array(pairs, np.int64).reshape(-1, 2)


def regroup_work(library, settings: GroupSettings | None = None) -> Work[GroupStats]:
    """Cluster every visible face again, keeping the user's facts; yields progress, returns stats."""
    start = time.perf_counter()
    settings = settings or library.group_settings()
    yield Progress(0, 3, "loading faces")
    faces = _load(library, settings)
    anchored = sorted(faces.named | set(faces.person[faces.confirmed].tolist()))
    anchor_index = {p: i for i, p in enumerate(anchored)}
    anchors = np.array([anchor_index[p] if c else -1 for p, c in zip(faces.person.tolist(), faces.confirmed)],
                       np.int64)
    yield Progress(1, 3, f"grouping {len(faces.ids)} faces")
    labels = group_faces(faces.vectors, settings=settings, photos=faces.photos, anchors=anchors,
                         cannot=_cannot(faces), can_seed=faces.can_seed)
    yield Progress(2, 3, "saving albums")
    person = _name_clusters(labels, anchored, faces)
    stats = _write(library, faces, person, start)
    yield Progress(3, 3, "done", {"people": stats.people, "unsorted": stats.unsorted})
    return stats


def _name_clusters(labels: np.ndarray, anchored: list[int], faces: _Faces) -> np.ndarray:
    """Person id of each face (-1 unsorted, -2-j new person j): anchors as given, new clusters take
    the id of the unnamed album they overlap most, if any."""
    n_anchor = len(anchored)
    person = np.full(len(labels), -1, np.int64)
    is_anchor = (labels >= 0) & (labels < n_anchor)
    person[is_anchor] = np.array(anchored, np.int64)[labels[is_anchor]] if is_anchor.any() else []
    new = labels >= n_anchor
    previous = np.where(np.isin(faces.person, anchored), -1, faces.person)
    overlap: dict[tuple[int, int], int] = {}
    for j, p in zip(labels[new].tolist(), previous[new].tolist()):
        if p >= 0:
            overlap[(j, p)] = overlap.get((j, p), 0) + 1
    chosen: dict[int, int] = {}
    used: set[int] = set()
    for (j, p), count in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if j not in chosen and p not in used:
            chosen[j] = p
            used.add(p)
    person[new] = [chosen.get(j, -2 - (j - n_anchor)) for j in labels[new].tolist()]
    # A "not this person" fact is never broken, whatever the clustering did.
    banned = set(faces.negatives)
    for i, (f, p) in enumerate(zip(faces.ids.tolist(), person.tolist())):
        if p >= 0 and (f, p) in banned:
            person[i] = -1
    return person


def _write(library, faces: _Faces, person: np.ndarray, start: float, only: np.ndarray | None = None) -> GroupStats:
    """Replace the automatic assignments (or add those of rows ``only``, leaving the others)."""
    write = np.ones(len(person), bool) if only is None else np.isin(np.arange(len(person)), only)
    guesses = [(f, p) for f, p, c, w in zip(faces.ids.tolist(), person.tolist(), faces.confirmed.tolist(),
                                           write.tolist()) if w and not c and p != -1]
    created = library.save_guesses(guesses, replace=only is None)
    filed = person != -1
    return GroupStats(faces=len(faces.ids), people=len(set(person[filed].tolist())),
                      unsorted=int((~filed).sum()), new_people=created, seconds=time.perf_counter() - start)


def assign_work(library, settings: GroupSettings | None = None) -> Work[GroupStats]:
    """Place the unsorted faces only: each joins the closest person within the threshold (the join
    threshold for faces too poor to seed), the rest are grouped among themselves."""
    start = time.perf_counter()
    settings = settings or library.group_settings()
    yield Progress(0, 2, "loading faces")
    faces = _load(library, settings)
    filed = np.flatnonzero(faces.person >= 0)
    pool = np.flatnonzero(faces.person < 0)
    person = faces.person.copy()
    if len(pool) and len(filed):
        person = _attach_to_people(faces, settings)
    yield Progress(1, 2, "grouping the rest")
    rest = np.flatnonzero(person < 0)
    if len(rest):
        sub = _Faces(faces.ids[rest], faces.photos[rest], faces.person[rest], faces.confirmed[rest],
                     faces.can_seed[rest], faces.vectors[rest], set(), faces.negatives)
        labels = group_faces(sub.vectors, settings=settings, photos=sub.photos, can_seed=sub.can_seed)
        person[rest] = np.where(labels >= 0, -2 - labels, -1)
    stats = _write(library, faces, person, start, only=pool)
    yield Progress(2, 2, "done", {"people": stats.people, "unsorted": stats.unsorted})
    return stats


def _attach_to_people(faces: _Faces, settings: GroupSettings) -> np.ndarray:
    """Unsorted faces join the closest person by the rules of the full grouping's last step
    (:func:`~facereid_engine.clustering.attach`): faces good enough to seed within ``threshold``, the
    others within ``join_threshold``; small people within the tightest pair cut (the library's size
    is not measured again here)."""
    ids, dense = np.unique(faces.person[faces.person >= 0], return_inverse=True)
    labels = np.full(len(faces.ids), -1, np.int64)
    labels[faces.person >= 0] = dense
    small = settings.tight_threshold if settings.spread_ratio else None
    cannot = _cannot(faces)
    rules = dict(k=settings.neighbours, spread_ratio=settings.spread_ratio, spread_min=settings.spread_min,
                 small_threshold=small)
    if settings.threshold == settings.join_threshold:
        out = attach(faces.vectors, labels, faces.photos, settings.threshold, cannot, **rules)
    else:
        # Each kind of face against the people as they are (joining faces never pull them), seeds first.
        seeds = (labels >= 0) | faces.can_seed
        rows = np.flatnonzero(seeds)
        out = labels.copy()
        out[rows] = attach(faces.vectors[rows], labels[rows], faces.photos[rows], settings.threshold,
                           _subset(cannot, rows), **rules)
        rows = np.flatnonzero(~seeds | (labels >= 0))
        late = attach(faces.vectors[rows], labels[rows], faces.photos[rows], settings.join_threshold,
                      _subset(cannot, rows), **rules)
        taken = {(int(c), int(p)) for c, p in zip(out, faces.photos) if c >= 0}
        for i, c in zip(rows.tolist(), late.tolist()):
            if out[i] < 0 <= c and (c, int(faces.photos[i])) not in taken:
                out[i] = c
                taken.add((c, int(faces.photos[i])))
    return np.where(out >= 0, ids[np.maximum(out, 0)], faces.person)


def _subset(pairs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The pairs (of row numbers) among ``rows``, renumbered to positions in ``rows``."""
    where = np.full(int(max(rows.max(initial=-1), pairs.max(initial=-1))) + 1, -1, np.int64)
    where[rows] = np.arange(len(rows))
    out = where[pairs] if len(pairs) else pairs.reshape(-1, 2)
    return out[(out >= 0).all(1)] if len(out) else out


def suggestions(library, limit: int | None = 50) -> list[Suggestion]:
    """People who may be one person (closest first), without the pairs the user dismissed."""
    settings = library.group_settings()
    faces = _load(library, settings)
    pairs = suggest_merges(faces.vectors, faces.person, faces.photos, settings.suggest_threshold)
    dismissed = library.dismissed_pairs()
    out = [Suggestion(a, b, d) for a, b, d in pairs if (min(a, b), max(a, b)) not in dismissed]
    return out if limit is None else out[:limit]
