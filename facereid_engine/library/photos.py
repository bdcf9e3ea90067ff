"""The scanner's side of the library: photo folders (roots), photos, their faces and embeddings."""
from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import NamedTuple, Sequence

import numpy as np

from .schema import LibraryError
from .types import FaceRecord


def under(root: str | os.PathLike, resolve: bool = True) -> tuple[str, str]:
    """Bounds (low, high) such that ``low < path < high`` holds exactly for paths inside ``root``
    (resolved, as the library stores them, unless ``resolve`` is False)."""
    root = (os.path.realpath(root) if resolve else os.path.abspath(root)).rstrip(os.sep)
    return root + os.sep, root + chr(ord(os.sep) + 1)


def _iou(a: Sequence[int], b: Sequence[int]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / float(area(a) + area(b) - inter)


class KnownPhoto(NamedTuple):
    """A photo row as the scanner compares it with the file."""

    id: int
    size: int
    mtime_ns: int
    status: str          # 'done' or 'error'
    missing: bool
    scanned_at: float    # when it was last read (or failed), time.time()


# How much a photo row holds of the user's work: confirmed faces, "not this person", "not a face".
_FACTS = ("SELECT (SELECT count(*) FROM assignments a JOIN faces f ON f.id = a.face_id WHERE f.photo_id = ? "
          "AND a.confirmed = 1) + (SELECT count(*) FROM not_person n JOIN faces f ON f.id = n.face_id WHERE "
          "f.photo_id = ?) + (SELECT count(*) FROM faces WHERE photo_id = ? AND rejected = 1)")


class PhotosMixin:
    """Roots, photo rows, faces and embeddings as the scanner writes them (part of :class:`Library`)."""

    # -- roots ------------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        """The photo folders scanned into this library (read-only to FaceReID), resolved."""
        return json.loads(self.get_meta("roots", "[]") or "[]")

    def add_root(self, folder: str | os.PathLike) -> str:
        """Remember a scanned folder by its real path; returns that path.

        A folder that an older library knows by another path (through a symbolic link) is moved to
        its real path, photos and facts included, so scanning it again adds nothing twice.
        """
        real = os.path.realpath(folder)
        roots = self.roots()
        aliases = [r for r in roots if r != real and os.path.realpath(r) == real]
        for alias in aliases:
            self._move_tree(alias, real)
        kept = sorted({*(r for r in roots if r not in aliases), real})
        if kept != roots:
            self.set_meta("roots", json.dumps(kept))
        return real

    def _move_tree(self, old_root: str, new_root: str) -> None:
        """Give the photos under ``old_root`` their path under ``new_root``; where both paths are
        known (the folder was scanned both ways), the row holding fewer of the user's facts goes."""
        low, high = under(old_root, resolve=False)
        with self._write() as db:
            rows = db.execute("SELECT id, path FROM photos WHERE path > ? AND path < ?", (low, high)).fetchall()
            for photo_id, path in rows:
                new_path = os.path.join(new_root, os.path.relpath(path, old_root))
                self._move_photo(db, photo_id, new_path)

    def _move_photo(self, db: sqlite3.Connection, photo_id: int, new_path: str) -> None:
        other = db.execute("SELECT id FROM photos WHERE path = ?", (new_path,)).fetchone()
        if other is not None:
            facts = lambda pid: db.execute(_FACTS, (pid, pid, pid)).fetchone()[0]  # noqa: E731
            if facts(other[0]) >= facts(photo_id):
                db.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
                return
            db.execute("DELETE FROM photos WHERE id = ?", (other[0],))
        db.execute("UPDATE photos SET path = ? WHERE id = ?", (new_path, photo_id))
        self._drop_empty_people(db)

    def move_photos(self, moves: dict[str, str]) -> None:
        """Known photos now found under another path (``old path -> new path``) keep their faces and facts."""
        with self._write() as db:
            for old, new in sorted(moves.items()):
                row = db.execute("SELECT id FROM photos WHERE path = ?", (old,)).fetchone()
                if row is not None:
                    self._move_photo(db, row[0], new)

    # -- photos (the scanner's side) --------------------------------------------------------------
    def photo_index(self, root: str | os.PathLike) -> dict[str, KnownPhoto]:
        """Photos known under ``root``: path -> :class:`KnownPhoto`."""
        low, high = under(root)
        with self._read() as db:
            rows = db.execute("SELECT path, id, size, mtime_ns, status, missing, scanned_at FROM photos "
                              "WHERE path > ? AND path < ?", (low, high)).fetchall()
        return {r[0]: KnownPhoto(r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows}

    def photos_missing_embeddings(self, encoder: str) -> set[int]:
        """Ids of photos having a face without an embedding for ``encoder``."""
        with self._read() as db:
            rows = db.execute("SELECT DISTINCT f.photo_id FROM faces f LEFT JOIN embeddings e "
                              "ON e.face_id = f.id AND e.encoder = ? WHERE e.face_id IS NULL", (encoder,))
            return {r[0] for r in rows}

    def failed_roots(self) -> list[str]:
        """The scanned folders holding photos that could not be read (see ``ScanSettings.retry_errors``)."""
        with self._read() as db:
            failed = [r[0] for r in db.execute("SELECT path FROM photos WHERE status = 'error' AND missing = 0")]
        return [root for root in self.roots() if any(under(root)[0] < p < under(root)[1] for p in failed)]

    def record_photo(self, path: str, size: int, mtime_ns: int, width: int, height: int,
                     faces: Sequence[FaceRecord], encoder: str, detector: str) -> int:
        """Store a scanned photo and its faces in one transaction; returns the photo id.

        A photo scanned before is updated in place: a new face overlapping an old one (IoU >= 0.5)
        keeps the old face's id, so the user's facts about it survive a re-scan.
        """
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT id FROM photos WHERE path = ?", (path,)).fetchone()
            if row is None:
                photo_id = db.execute(
                    "INSERT INTO photos(path, size, mtime_ns, width, height, status, error, missing, "
                    "detector, scanned_at) VALUES (?, ?, ?, ?, ?, 'done', NULL, 0, ?, ?)",
                    (path, size, mtime_ns, width, height, detector, now)).lastrowid
                old: list[tuple] = []
            else:
                photo_id = row[0]
                db.execute("UPDATE photos SET size = ?, mtime_ns = ?, width = ?, height = ?, status = 'done', "
                           "error = NULL, missing = 0, detector = ?, scanned_at = ? WHERE id = ?",
                           (size, mtime_ns, width, height, detector, now, photo_id))
                old = db.execute("SELECT id, left, top, right, bottom FROM faces WHERE photo_id = ?",
                                 (photo_id,)).fetchall()
            reuse = self._match_old_faces(old, faces)
            for i, face in enumerate(faces):
                values = (*[int(v) for v in face.box], float(face.score),
                          np.asarray(face.landmarks, dtype=np.float32).tobytes(), float(face.sharpness),
                          face.thumbnail)
                if i in reuse:
                    face_id = reuse[i]
                    db.execute("UPDATE faces SET left = ?, top = ?, right = ?, bottom = ?, score = ?, "
                               "landmarks = ?, sharpness = ?, thumbnail = ? WHERE id = ?", (*values, face_id))
                    db.execute("DELETE FROM embeddings WHERE face_id = ?", (face_id,))
                else:
                    face_id = db.execute("INSERT INTO faces(photo_id, left, top, right, bottom, score, "
                                         "landmarks, sharpness, thumbnail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                         (photo_id, *values)).lastrowid
                db.execute("INSERT INTO embeddings(face_id, encoder, vector) VALUES (?, ?, ?)",
                           (face_id, encoder, np.asarray(face.embedding, dtype=np.float32).tobytes()))
            kept = set(reuse.values())
            db.executemany("DELETE FROM faces WHERE id = ?", [(r[0],) for r in old if r[0] not in kept])
        return photo_id

    @staticmethod
    def _match_old_faces(old: list[tuple], faces: Sequence[FaceRecord]) -> dict[int, int]:
        pairs = sorted(((_iou(o[1:], f.box), i, o[0]) for i, f in enumerate(faces) for o in old), reverse=True)
        reuse: dict[int, int] = {}
        used: set[int] = set()
        for iou, i, face_id in pairs:
            if iou >= 0.5 and i not in reuse and face_id not in used:
                reuse[i] = face_id
                used.add(face_id)
        return reuse

    def record_error(self, path: str, size: int, mtime_ns: int, error: str) -> None:
        """Remember that a photo could not be read (it is retried when the file changes)."""
        with self._write() as db:
            db.execute("INSERT INTO photos(path, size, mtime_ns, status, error, missing, scanned_at) "
                       "VALUES (?, ?, ?, 'error', ?, 0, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size, "
                       "mtime_ns = excluded.mtime_ns, status = 'error', error = excluded.error, missing = 0, "
                       "scanned_at = excluded.scanned_at", (path, size, mtime_ns, error, time.time()))
            db.execute("DELETE FROM faces WHERE photo_id = (SELECT id FROM photos WHERE path = ?)", (path,))

    def add_embeddings(self, photo_id: int, encoder: str, vectors: np.ndarray) -> None:
        """Embeddings with another encoder for a photo's faces, in :meth:`photo_faces` order."""
        with self._write() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM faces WHERE photo_id = ? ORDER BY id", (photo_id,))]
            if len(ids) != len(vectors):
                raise LibraryError(f"photo {photo_id}: {len(vectors)} embeddings for {len(ids)} faces")
            db.executemany("INSERT OR REPLACE INTO embeddings(face_id, encoder, vector) VALUES (?, ?, ?)",
                           [(i, encoder, np.asarray(v, dtype=np.float32).tobytes()) for i, v in zip(ids, vectors)])

    def photo_faces(self, photo_id: int) -> list[tuple[int, tuple[int, int, int, int], np.ndarray]]:
        """(face id, box, landmarks (5, 2)) of a photo's faces, by id."""
        with self._read() as db:
            rows = db.execute("SELECT id, left, top, right, bottom, landmarks FROM faces WHERE photo_id = ? "
                              "ORDER BY id", (photo_id,)).fetchall()
        return [(r[0], tuple(r[1:5]), np.frombuffer(r[5], dtype=np.float32).reshape(5, 2).astype(np.float64))
                for r in rows]

    def set_missing(self, root: str | os.PathLike, present: set[str]) -> int:
        """Mark photos under ``root`` not in ``present`` as missing (and present ones as not); returns how many."""
        low, high = under(root)
        with self._write() as db:
            rows = db.execute("SELECT id, path, missing FROM photos WHERE path > ? AND path < ?",
                              (low, high)).fetchall()
            gone = [(r[0],) for r in rows if r[1] not in present and not r[2]]
            back = [(r[0],) for r in rows if r[1] in present and r[2]]
            db.executemany("UPDATE photos SET missing = 1 WHERE id = ?", gone)
            db.executemany("UPDATE photos SET missing = 0 WHERE id = ?", back)
            # The clustering's guesses about faces that left leave with them; the user's facts stay.
            db.executemany("DELETE FROM assignments WHERE confirmed = 0 AND face_id IN "
                           "(SELECT id FROM faces WHERE photo_id = ?)", gone)
        return len(gone)

    def prune_missing(self) -> int:
        """Forget missing photos for good, with their faces and the facts about them; returns how many."""
        with self._write() as db:
            count = db.execute("DELETE FROM photos WHERE missing = 1").rowcount
            self._drop_empty_people(db)
        return count

    @staticmethod
    def _drop_empty_people(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM people WHERE name IS NULL AND id NOT IN (SELECT person_id FROM assignments)")
