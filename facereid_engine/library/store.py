"""The :class:`Library`: one SQLite file holding photos, faces, embeddings, people and the user's facts."""
from __future__ import annotations

import json
import os
import time
from typing import Sequence

import numpy as np

from ..defaults import DEFAULT_ENCODER
from .corrections import CorrectionsMixin
from .database import Database
from .photos import PhotosMixin, under
from .schema import VISIBLE, LibraryError
from .types import FaceInfo, FacesToGroup, PhotoError, Person


_FACE_COLUMNS = ("f.id, f.photo_id, ph.path, f.left, f.top, f.right, f.bottom, f.score, f.sharpness, "
                 "a.person_id, COALESCE(a.confirmed, 0)")
_FACE_FROM = "faces f JOIN photos ph ON ph.id = f.photo_id LEFT JOIN assignments a ON a.face_id = f.id"


def _face_info(row: Sequence) -> FaceInfo:
    return FaceInfo(id=row[0], photo_id=row[1], path=row[2], box=(row[3], row[4], row[5], row[6]),
                    score=row[7], sharpness=row[8], person_id=row[9], confirmed=bool(row[10]))


class Library(Database, PhotosMixin, CorrectionsMixin):
    """A people-albums library in one SQLite file (``default_library_path()`` when ``path`` is None).

    Safe to share between threads (one connection behind a lock); other processes may read it at the
    same time (WAL). ``readonly=True`` never writes to the file (for listing). ``timeout``: seconds
    a write waits for another FaceReID using the file. Use as a context manager or call :meth:`close`.
    """

    # -- settings ---------------------------------------------------------------------------------
    @property
    def encoder(self) -> str:
        """The encoder whose embeddings the albums are grouped by: the latest scan's; for a library
        that never recorded one, the encoder of most of its embeddings (so that a library made when
        another encoder was the default keeps it), else the default."""
        chosen = self.get_meta("encoder")
        if chosen:
            return chosen
        with self._read() as db:
            row = db.execute("SELECT encoder FROM embeddings GROUP BY encoder ORDER BY COUNT(*) DESC, encoder "
                             "LIMIT 1").fetchone()
        return row[0] if row else DEFAULT_ENCODER

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

    # -- long work --------------------------------------------------------------------------------
    def scan_work(self, folder: str | os.PathLike, settings=None, pipeline=None):
        """Generator: scan ``folder`` into the library, then group; returns a ``ScanResult``
        (see :func:`.scanning.scan_work`)."""
        from .scanning import scan_work
        return scan_work(self, folder, settings, pipeline)

    def retry_failed_work(self, settings=None, pipeline=None):
        """Generator: read again every photo that could not be read before (scanning each folder
        holding one); returns the list of ``ScanResult``."""
        from dataclasses import replace

        from .scanning import default_settings, scan_work
        settings = replace(settings or default_settings(self, pipeline), retry_errors=True)
        results = []
        for root in self.failed_roots():
            results.append((yield from scan_work(self, root, settings, pipeline)))
        return results

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

    # -- what the grouping reads and writes -------------------------------------------------------
    def faces_to_group(self) -> FacesToGroup:
        """The visible faces with an embedding of :attr:`encoder`, the named people and the
        "not this person" facts, read in one snapshot."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT f.id, f.photo_id, ph.path, f.left, f.top, f.right, f.bottom, f.score, f.sharpness, "
                f"COALESCE(a.person_id, -1), COALESCE(a.confirmed, 0), e.vector FROM faces f "
                f"JOIN photos ph ON ph.id = f.photo_id JOIN embeddings e ON e.face_id = f.id AND e.encoder = ? "
                f"LEFT JOIN assignments a ON a.face_id = f.id WHERE {VISIBLE}", (self.encoder,)).fetchall()
            named = {r[0] for r in db.execute("SELECT id FROM people WHERE name IS NOT NULL")}
            negatives = db.execute("SELECT face_id, person_id FROM not_person").fetchall()
        return FacesToGroup(rows, named, negatives)

    def save_guesses(self, guesses: Sequence[tuple[int, int]], *, replace: bool) -> int:
        """Store the clustering's guesses ``(face id, person)`` in one transaction: ``person`` is a
        person's id, or ``-2 - j`` for the j-th new person. ``replace``: every earlier guess goes
        first. Returns how many people were created."""
        created: dict[int, int] = {}
        with self._write() as db:
            if replace:
                db.execute("DELETE FROM assignments WHERE confirmed = 0")
            rows = []
            for face, person in guesses:
                if person <= -2:
                    if person not in created:
                        created[person] = db.execute("INSERT INTO people(name, created) VALUES (NULL, ?)",
                                                     (time.time(),)).lastrowid
                    person = created[person]
                rows.append((face, person))
            db.executemany("INSERT INTO assignments(face_id, person_id, confirmed) VALUES (?, ?, 0)", rows)
            self._drop_empty_people(db)
        return len(created)

    def dismissed_pairs(self) -> set[tuple[int, int]]:
        """Pairs of people (a < b) the user keeps apart."""
        with self._read() as db:
            return set(db.execute("SELECT person_a, person_b FROM dismissed").fetchall())

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
