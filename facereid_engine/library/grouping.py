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

from ..clustering import GroupSettings, group_faces, suggest_merges
from ..clustering.knn import knn_query
from ..clustering.linkage import Clusters
from ..progress import Progress, Work
from .store import VISIBLE
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
    with library._read() as db:
        rows = db.execute(
            f"SELECT f.id, f.photo_id, ph.path, f.left, f.top, f.right, f.bottom, f.score, f.sharpness, "
            f"COALESCE(a.person_id, -1), COALESCE(a.confirmed, 0), e.vector FROM faces f "
            f"JOIN photos ph ON ph.id = f.photo_id JOIN embeddings e ON e.face_id = f.id AND e.encoder = ? "
            f"LEFT JOIN assignments a ON a.face_id = f.id WHERE {VISIBLE}", (library.encoder,)).fetchall()
        named = {r[0] for r in db.execute("SELECT id FROM people WHERE name IS NOT NULL")}
        negatives = db.execute("SELECT face_id, person_id FROM not_person").fetchall()
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
    created: dict[int, int] = {}
    with library._write() as db:
        if only is None:
            db.execute("DELETE FROM assignments WHERE confirmed = 0")
        rows = []
        write = np.ones(len(person), bool) if only is None else np.isin(np.arange(len(person)), only)
        for f, p, c, w in zip(faces.ids.tolist(), person.tolist(), faces.confirmed.tolist(), write.tolist()):
            if c or p == -1 or not w:
                continue
            if p <= -2:
                if p not in created:
                    created[p] = db.execute("INSERT INTO people(name, created) VALUES (NULL, ?)",
                                            (time.time(),)).lastrowid
                p = created[p]
            rows.append((f, p))
        db.executemany("INSERT INTO assignments(face_id, person_id, confirmed) VALUES (?, ?, 0)", rows)
        library._drop_empty_people(db)
    filed = person != -1
    return GroupStats(faces=len(faces.ids), people=len(set(person[filed].tolist())),
                      unsorted=int((~filed).sum()), new_people=len(created), seconds=time.perf_counter() - start)


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
        ids, dense = np.unique(faces.person[filed], return_inverse=True)
        stats = Clusters.of(faces.vectors[filed], dense, len(ids), np.full(len(ids), -1))
        means = (stats.s / stats.n[:, None]).astype(np.float32)
        near, _ = knn_query(faces.vectors[pool], means, min(8, len(ids)))
        item = np.repeat(np.arange(len(pool)), near.shape[1])
        cand = near.ravel()
        link = stats.linkage_to(faces.vectors[pool[item]], cand)
        # The rules of the full grouping: a big person within its spread ratio, a small one within
        # the tightest pair cut (the library's size is not re-measured here).
        limit = np.where(faces.can_seed[pool[item]], settings.threshold, settings.join_threshold) ** 2
        big = stats.n[cand] >= settings.spread_min
        limit = np.where(big, np.minimum(limit, settings.spread_ratio * np.nan_to_num(stats.spreads()[cand])),
                         np.minimum(limit, settings.tight_threshold ** 2)) if settings.spread_ratio else limit
        taken = {(int(p), int(ph)) for p, ph in zip(faces.person[filed], faces.photos[filed])}
        banned = set(faces.negatives)
        for k in np.lexsort((cand, item, link)):
            i, p = pool[item[k]], int(ids[cand[k]])
            if link[k] > limit[k] or person[i] >= 0 or (p, int(faces.photos[i])) in taken \
                    or (int(faces.ids[i]), p) in banned:
                continue
            person[i] = p
            taken.add((p, int(faces.photos[i])))
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


def suggestions(library, limit: int | None = 50) -> list[Suggestion]:
    """People who may be one person (closest first), without the pairs the user dismissed."""
    settings = library.group_settings()
    faces = _load(library, settings)
    pairs = suggest_merges(faces.vectors, faces.person, faces.photos, settings.suggest_threshold)
    with library._read() as db:
        dismissed = set(db.execute("SELECT person_a, person_b FROM dismissed").fetchall())
    out = [Suggestion(a, b, d) for a, b, d in pairs if (min(a, b), max(a, b)) not in dismissed]
    return out if limit is None else out[:limit]
