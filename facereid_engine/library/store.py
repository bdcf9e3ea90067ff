"""The :class:`Library`: one SQLite file holding photos, faces, embeddings, people and the user's facts."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..paths import default_library_path
from .corrections import CorrectionsMixin
from .schema import LibraryError, connect
from .types import FaceInfo, FaceRecord, PhotoError, Person

DEFAULT_ENCODER = "dlib"

# A face is shown in the albums when it is not rejected and its photo is present and readable.
VISIBLE = "f.rejected = 0 AND ph.missing = 0 AND ph.status = 'done'"
_FACE_COLUMNS = ("f.id, f.photo_id, ph.path, f.left, f.top, f.right, f.bottom, f.score, f.sharpness, "
                 "a.person_id, COALESCE(a.confirmed, 0)")
_FACE_FROM = "faces f JOIN photos ph ON ph.id = f.photo_id LEFT JOIN assignments a ON a.face_id = f.id"


def under(root: str | os.PathLike) -> tuple[str, str]:
    """Bounds (low, high) such that ``low < path < high`` holds exactly for paths inside ``root``."""
    root = os.path.abspath(root).rstrip(os.sep)
    return root + os.sep, root + chr(ord(os.sep) + 1)


def _face_info(row: Sequence) -> FaceInfo:
    return FaceInfo(id=row[0], photo_id=row[1], path=row[2], box=(row[3], row[4], row[5], row[6]),
                    score=row[7], sharpness=row[8], person_id=row[9], confirmed=bool(row[10]))


def _iou(a: Sequence[int], b: Sequence[int]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / float(area(a) + area(b) - inter)


class Library(CorrectionsMixin):
    """A people-albums library in one SQLite file (``default_library_path()`` when ``path`` is None).

    Safe to share between threads (one connection behind a lock); other processes may read it at the
    same time (WAL). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_library_path()
        if self.path.is_dir():
            raise LibraryError(f"{self.path}: is a folder, not a library file")
        self._conn: sqlite3.Connection = connect(self.path)
        self._lock = threading.RLock()

    # -- plumbing ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside commits together or not at all."""
        with self._lock:
            if self._conn is None:
                raise LibraryError(f"{self.path}: the library is closed")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one snapshot) over several statements."""
        with self._lock:
            if self._conn is None:
                raise LibraryError(f"{self.path}: the library is closed")
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    # -- settings ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                       "excluded.value", (key, value))

    @property
    def encoder(self) -> str:
        """The encoder whose embeddings the albums are grouped by."""
        return self.get_meta("encoder", DEFAULT_ENCODER) or DEFAULT_ENCODER

    def group_settings(self):
        """The grouping thresholds in force (:class:`~facereid_engine.clustering.GroupSettings`)."""
        from ..clustering import GroupSettings
        text = self.get_meta("group_settings")
        return GroupSettings.for_encoder(self.encoder, **(json.loads(text) if text else {}))

    def set_group_settings(self, **changes) -> None:
        """Change grouping thresholds (names of :class:`GroupSettings` fields); takes effect at the next regroup."""
        from ..clustering import GroupSettings
        text = self.get_meta("group_settings")
        current = json.loads(text) if text else {}
        current.update(changes)
        GroupSettings.for_encoder(self.encoder, **current)  # validates names and values
        self.set_meta("group_settings", json.dumps(current, sort_keys=True))

    def roots(self) -> list[str]:
        """The photo folders scanned into this library (read-only to FaceReID)."""
        return json.loads(self.get_meta("roots", "[]") or "[]")

    def add_root(self, folder: str | os.PathLike) -> None:
        roots = self.roots()
        folder = os.path.abspath(folder)
        if folder not in roots:
            self.set_meta("roots", json.dumps(sorted([*roots, folder])))

    # -- photos (the scanner's side) --------------------------------------------------------------
    def photo_index(self, root: str | os.PathLike) -> dict[str, tuple[int, int, int, str, bool]]:
        """Photos known under ``root``: path -> (id, size, mtime_ns, status, missing)."""
        low, high = under(root)
        with self._read() as db:
            rows = db.execute("SELECT path, id, size, mtime_ns, status, missing FROM photos "
                              "WHERE path > ? AND path < ?", (low, high)).fetchall()
        return {r[0]: (r[1], r[2], r[3], r[4], bool(r[5])) for r in rows}

    def photos_missing_embeddings(self, encoder: str) -> set[int]:
        """Ids of photos having a face without an embedding for ``encoder``."""
        with self._read() as db:
            rows = db.execute("SELECT DISTINCT f.photo_id FROM faces f LEFT JOIN embeddings e "
                              "ON e.face_id = f.id AND e.encoder = ? WHERE e.face_id IS NULL", (encoder,))
            return {r[0] for r in rows}

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

    # -- grouping -----------------------------------------------------------------------------------
    def group_work(self, full: bool | None = None):
        """Generator: regroup (``full``), or place only the unsorted faces; None = full up to
        ``FULL_REGROUP_LIMIT`` faces. Returns :class:`GroupStats`."""
        from . import grouping
        if full is None:
            full = self.counts()["faces"] <= grouping.FULL_REGROUP_LIMIT
        stats = yield from (grouping.regroup_work(self) if full else grouping.assign_work(self))
        self.set_meta("grouped", self._grouping_signature())
        return stats

    def _grouping_signature(self) -> str:
        with self._read() as db:
            faces = db.execute("SELECT count(*), max(id), sum(rejected) FROM faces").fetchone()
            photos = db.execute("SELECT count(*), sum(missing), max(scanned_at) FROM photos").fetchone()
        return json.dumps([self.encoder, self.get_meta("group_settings"), *faces, *photos])

    def needs_grouping(self) -> bool:
        """Whether faces were added, changed or removed since the last grouping."""
        return self.get_meta("grouped") != self._grouping_signature()

    def group(self, full: bool | None = None):
        """:meth:`group_work` run to its end; returns :class:`GroupStats`."""
        from ..progress import run
        return run(self.group_work(full))

    def suggestions(self, limit: int | None = 50):
        """Pairs of people who may be one (:class:`Suggestion`, closest first), dismissed ones left out."""
        from .grouping import suggestions
        return suggestions(self, limit)

    def scan_work(self, folder: str | os.PathLike, settings=None, pipeline=None):
        """Generator: scan ``folder`` into the library, then group (see :func:`..scanning.scan`)."""
        from .scanning import scan
        return scan(self, folder, settings=settings, pipeline=pipeline)

    # -- reading the albums -----------------------------------------------------------------------
    def people(self) -> list[Person]:
        """Every person with a visible face or a name: named first (by name), then by size."""
        with self._read() as db:
            names = dict(db.execute("SELECT id, name FROM people").fetchall())
            rows = db.execute(f"SELECT a.person_id, f.id, f.photo_id, a.confirmed, f.right - f.left, f.sharpness "
                              f"FROM assignments a JOIN faces f ON f.id = a.face_id JOIN photos ph ON "
                              f"ph.id = f.photo_id WHERE {VISIBLE}").fetchall()
        stats: dict[int, list] = {pid: [0, 0, set(), None] for pid in names}
        best: dict[int, tuple] = {}
        for pid, fid, photo, confirmed, width, sharp in rows:
            s = stats[pid]
            s[0] += 1
            s[1] += confirmed
            s[2].add(photo)
            key = (confirmed, width, sharp, -fid)
            if pid not in best or key > best[pid]:
                best[pid], s[3] = key, fid
        out = [Person(pid, names[pid], s[0], s[1], len(s[2]), s[3]) for pid, s in stats.items()
               if s[0] or names[pid]]
        out.sort(key=lambda p: (p.name is None, (p.name or "").casefold(), -p.face_count, p.id))
        return out

    def person(self, person_id: int) -> Person:
        for p in self.people():
            if p.id == person_id:
                return p
        raise LibraryError(f"no person with id {person_id}")

    def faces(self, person_id: int | None = None, *, unsorted: bool = False,
              root: str | os.PathLike | None = None) -> list[FaceInfo]:
        """Visible faces: of one person, or the unsorted ones, or all; optionally only under ``root``."""
        where, params = [VISIBLE], []
        if person_id is not None:
            where.append("a.person_id = ?")
            params.append(person_id)
        elif unsorted:
            where.append("a.person_id IS NULL")
        if root is not None:
            where.append("ph.path > ? AND ph.path < ?")
            params.extend(under(root))
        with self._read() as db:
            rows = db.execute(f"SELECT {_FACE_COLUMNS} FROM {_FACE_FROM} WHERE {' AND '.join(where)} "
                              f"ORDER BY ph.path, f.left, f.top, f.id", params).fetchall()
        return [_face_info(r) for r in rows]

    def unsorted(self) -> list[FaceInfo]:
        """Visible faces that belong to nobody."""
        return self.faces(unsorted=True)

    def face(self, face_id: int) -> FaceInfo:
        with self._read() as db:
            row = db.execute(f"SELECT {_FACE_COLUMNS} FROM {_FACE_FROM} WHERE f.id = ?", (face_id,)).fetchone()
        if row is None:
            raise LibraryError(f"no face with id {face_id}")
        return _face_info(row)

    def face_thumbnail(self, face_id: int) -> bytes | None:
        """A small JPEG of the face (cut at scan time, so the photo need not be decoded again)."""
        with self._read() as db:
            row = db.execute("SELECT thumbnail FROM faces WHERE id = ?", (face_id,)).fetchone()
        return None if row is None else row[0]

    def errors(self, root: str | os.PathLike | None = None) -> list[PhotoError]:
        """Photos that could not be read, with the reason."""
        sql, params = "SELECT path, error FROM photos WHERE status = 'error' AND missing = 0", []
        if root is not None:
            sql += " AND path > ? AND path < ?"
            params.extend(under(root))
        with self._read() as db:
            return [PhotoError(p, e) for p, e in db.execute(sql + " ORDER BY path", params)]

    def counts(self) -> dict[str, int]:
        """Numbers for a status line: photos, errors, missing, faces, people, unsorted."""
        with self._read() as db:
            one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
            return {
                "photos": one("SELECT count(*) FROM photos WHERE missing = 0"),
                "errors": one("SELECT count(*) FROM photos WHERE missing = 0 AND status = 'error'"),
                "missing": one("SELECT count(*) FROM photos WHERE missing = 1"),
                "faces": one(f"SELECT count(*) FROM faces f JOIN photos ph ON ph.id = f.photo_id WHERE {VISIBLE}"),
                "unsorted": one(f"SELECT count(*) FROM {_FACE_FROM} WHERE {VISIBLE} AND a.person_id IS NULL"),
            } | {"people": len(self.people())}

    def embeddings(self, face_ids: Sequence[int], encoder: str | None = None) -> np.ndarray:
        """Float32 (N, dim) embeddings of the faces, in the order given."""
        encoder = encoder or self.encoder
        with self._read() as db:
            found = {}
            for start in range(0, len(face_ids), 900):
                chunk = list(face_ids[start:start + 900])
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT face_id, vector FROM embeddings WHERE encoder = ? AND "
                                        f"face_id IN ({marks})", [encoder, *chunk]).fetchall())
        missing = [f for f in face_ids if f not in found]
        if missing:
            raise LibraryError(f"faces {missing[:5]} have no {encoder} embedding")
        return np.stack([np.frombuffer(found[f], dtype=np.float32) for f in face_ids]) if face_ids else \
            np.zeros((0, 0), dtype=np.float32)
