"""The user's corrections: each one is a fact stored at once, kept by every regroup, and undoable.

Every correction runs in one transaction that also writes an undo record: the rows it is about to
change, as they were (faces' assignments and "rejected" flags, people, negative facts, dismissals).
:meth:`CorrectionsMixin.undo` puts them back.
"""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Iterable, Sequence

from .schema import LibraryError
from .types import unnamed_label


def _ids(values: Iterable[int]) -> list[int]:
    return sorted({int(v) for v in values})


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


class CorrectionsMixin:
    """Rename, merge, move, split, not-this-person, not-a-face, dismiss a suggestion, undo."""

    # -- the corrections --------------------------------------------------------------------------
    def rename(self, person_id: int, name: str | None) -> None:
        """Name a person (``None`` or blank removes the name). Naming confirms the person's faces."""
        name = (name or "").strip() or None
        with self._write() as db:
            self._require_people(db, [person_id])
            faces = self._faces_of(db, [person_id])
            self._log(db, "rename", f"rename {self._label(db, person_id)} to {name or 'no name'}",
                      faces, [person_id])
            db.execute("UPDATE people SET name = ? WHERE id = ?", (name, person_id))
            db.execute("UPDATE assignments SET confirmed = 1 WHERE person_id = ?", (person_id,))

    def merge(self, person_ids: Sequence[int], into: int | None = None) -> int:
        """Merge people into ``into`` (default: the first named one, else the first given); returns its id.

        The merged faces are confirmed. Two faces of one photo cannot both stay: a guessed one leaves
        (unsorted); two confirmed ones make the merge fail.
        """
        people = _ids(person_ids) if into is None else _ids([*person_ids, into])
        if len(people) < 2:
            raise LibraryError("merge needs at least two different people")
        with self._write() as db:
            self._require_people(db, people)
            if into is None:
                named = [p for p in person_ids if db.execute("SELECT name FROM people WHERE id = ?",
                                                             (p,)).fetchone()[0]]
                into = int(named[0] if named else person_ids[0])
            sources = [p for p in people if p != into]
            faces = self._faces_of(db, people)
            self._log(db, "merge", f"merge {', '.join(self._label(db, p) for p in sources)} into "
                      f"{self._label(db, into)}", faces, people)
            self._settle_photo_conflicts(db, into, self._faces_of(db, sources))
            marks = _marks(sources)
            if db.execute("SELECT name FROM people WHERE id = ?", (into,)).fetchone()[0] is None:
                name = db.execute(f"SELECT name FROM people WHERE id IN ({marks}) AND name IS NOT NULL "
                                  f"ORDER BY id LIMIT 1", sources).fetchone()
                db.execute("UPDATE people SET name = ? WHERE id = ?", (name[0] if name else None, into))
            db.execute(f"UPDATE assignments SET person_id = ?, confirmed = 1 WHERE person_id IN ({marks})",
                       [into, *sources])
            db.execute("UPDATE assignments SET confirmed = 1 WHERE person_id = ?", (into,))
            db.execute(f"INSERT OR IGNORE INTO not_person(face_id, person_id) SELECT face_id, ? FROM not_person "
                       f"WHERE person_id IN ({marks})", [into, *sources])
            db.execute("DELETE FROM not_person WHERE person_id = ? AND face_id IN "
                       "(SELECT face_id FROM assignments WHERE person_id = ?)", (into, into))
            db.execute(f"DELETE FROM people WHERE id IN ({marks})", sources)
        return into

    def move_faces(self, face_ids: Iterable[int], person_id: int) -> None:
        """File faces under a person, confirmed (a guessed face of the same photo there leaves it)."""
        faces = _ids(face_ids)
        with self._write() as db:
            self._require_faces(db, faces)
            self._require_people(db, [person_id])
            before = self._people_of(db, faces)
            self._log(db, "move", f"move {len(faces)} face(s) to {self._label(db, person_id)}", faces,
                      [person_id, *before])
            self._assign_confirmed(db, faces, person_id)

    def split(self, face_ids: Iterable[int], name: str | None = None) -> int:
        """Make a new person of these faces (confirmed); returns its id.

        The faces left behind in an unconfirmed album are marked "not the new person", so no regroup
        joins the two again.
        """
        faces = _ids(face_ids)
        if not faces:
            raise LibraryError("split needs at least one face")
        with self._write() as db:
            self._require_faces(db, faces)
            before = self._people_of(db, faces)
            new_id = db.execute("INSERT INTO people(name, created) VALUES (?, ?)",
                                ((name or "").strip() or None, time.time())).lastrowid
            self._log(db, "split", f"split {len(faces)} face(s) into {self._label(db, new_id)}", faces,
                      [*before, new_id], created=[new_id])
            self._assign_confirmed(db, faces, new_id)
            if before:
                db.execute(f"INSERT OR IGNORE INTO not_person(face_id, person_id) SELECT face_id, ? FROM "
                           f"assignments WHERE confirmed = 0 AND person_id IN ({_marks(before)})", [new_id, *before])
        return new_id

    def not_this_person(self, face_ids: Iterable[int], person_id: int | None = None) -> None:
        """"These faces are not this person" (default: the person each face is filed under now)."""
        faces = _ids(face_ids)
        with self._write() as db:
            self._require_faces(db, faces)
            current = dict(db.execute(f"SELECT face_id, person_id FROM assignments WHERE face_id IN "
                                      f"({_marks(faces)})", faces).fetchall())
            pairs = [(f, person_id if person_id is not None else current.get(f)) for f in faces]
            pairs = [(f, p) for f, p in pairs if p is not None]
            if not pairs:
                raise LibraryError("those faces are not filed under anybody")
            people = _ids(p for _, p in pairs)
            self._require_people(db, people)
            self._log(db, "not_person", f"{len(pairs)} face(s) are not "
                      f"{', '.join(self._label(db, p) for p in people)}", faces, people)
            db.executemany("INSERT OR IGNORE INTO not_person(face_id, person_id) VALUES (?, ?)", pairs)
            db.executemany("DELETE FROM assignments WHERE face_id = ? AND person_id = ?", pairs)

    def not_a_face(self, face_ids: Iterable[int]) -> None:
        """"This is not a face": the face leaves every album and is never grouped again."""
        faces = _ids(face_ids)
        with self._write() as db:
            self._require_faces(db, faces)
            self._log(db, "not_face", f"{len(faces)} detection(s) are not faces", faces, [])
            db.execute(f"UPDATE faces SET rejected = 1 WHERE id IN ({_marks(faces)})", faces)
            db.execute(f"DELETE FROM assignments WHERE face_id IN ({_marks(faces)})", faces)

    def dismiss_suggestion(self, person_a: int, person_b: int) -> None:
        """Never suggest merging these two people again."""
        a, b = sorted((int(person_a), int(person_b)))
        with self._write() as db:
            self._require_people(db, [a, b])
            self._log(db, "dismiss", f"keep {self._label(db, a)} and {self._label(db, b)} apart", [], [a, b])
            db.execute("INSERT OR IGNORE INTO dismissed(person_a, person_b) VALUES (?, ?)", (a, b))

    def last_correction(self) -> str | None:
        """What :meth:`undo` would undo, in words (None when there is nothing to undo)."""
        with self._read() as db:
            row = db.execute("SELECT description FROM undo_log ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else row[0]

    def undo(self) -> str | None:
        """Undo the last correction; returns its description (None when there was none)."""
        with self._write() as db:
            row = db.execute("SELECT id, description, snapshot FROM undo_log ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                return None
            self._restore(db, json.loads(row[2]))
            db.execute("DELETE FROM undo_log WHERE id = ?", (row[0],))
        return row[1]

    # -- helpers (inside a write transaction) -----------------------------------------------------
    @staticmethod
    def _require_people(db: sqlite3.Connection, people: Sequence[int]) -> None:
        people = _ids(people)
        found = {r[0] for r in db.execute(f"SELECT id FROM people WHERE id IN ({_marks(people)})", people)}
        if len(found) != len(people):
            raise LibraryError(f"no person with id {sorted(set(people) - found)[0]}")

    @staticmethod
    def _require_faces(db: sqlite3.Connection, faces: Sequence[int]) -> None:
        if not faces:
            raise LibraryError("no faces given")
        found = {r[0] for r in db.execute(f"SELECT id FROM faces WHERE id IN ({_marks(faces)})", faces)}
        if len(found) != len(faces):
            raise LibraryError(f"no face with id {sorted(set(faces) - found)[0]}")

    @staticmethod
    def _faces_of(db: sqlite3.Connection, people: Sequence[int]) -> list[int]:
        return [r[0] for r in db.execute(f"SELECT face_id FROM assignments WHERE person_id IN ({_marks(people)})",
                                         list(people))]

    @staticmethod
    def _people_of(db: sqlite3.Connection, faces: Sequence[int]) -> list[int]:
        return [r[0] for r in db.execute(f"SELECT DISTINCT person_id FROM assignments WHERE face_id IN "
                                         f"({_marks(faces)})", list(faces))]

    @staticmethod
    def _label(db: sqlite3.Connection, person_id: int) -> str:
        row = db.execute("SELECT name FROM people WHERE id = ?", (person_id,)).fetchone()
        return row[0] if row and row[0] else unnamed_label(person_id)

    def _assign_confirmed(self, db: sqlite3.Connection, faces: list[int], person_id: int) -> None:
        self._settle_photo_conflicts(db, person_id, faces, confirm_incoming=True)
        db.executemany("INSERT INTO assignments(face_id, person_id, confirmed) VALUES (?, ?, 1) ON CONFLICT(face_id) "
                       "DO UPDATE SET person_id = excluded.person_id, confirmed = 1", [(f, person_id) for f in faces])
        db.executemany("DELETE FROM not_person WHERE face_id = ? AND person_id = ?", [(f, person_id) for f in faces])
        db.execute(f"UPDATE faces SET rejected = 0 WHERE id IN ({_marks(faces)})", faces)

    def _settle_photo_conflicts(self, db: sqlite3.Connection, person_id: int, incoming: list[int],
                                confirm_incoming: bool = False) -> None:
        """Keep one face per photo in ``person_id`` once ``incoming`` joins it: guesses give way to facts."""
        if not incoming:
            return
        rows = db.execute(f"SELECT f.id, f.photo_id, COALESCE(a.confirmed, 0) OR (f.id IN ({_marks(incoming)}) "
                          f"AND ?), a.person_id IS ? FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
                          f"WHERE (f.rejected = 0 AND a.person_id = ?) OR f.id IN ({_marks(incoming)})",
                          [*incoming, int(confirm_incoming), person_id, person_id, *incoming]).fetchall()
        by_photo: dict[int, list[tuple]] = {}
        for row in rows:
            by_photo.setdefault(row[1], []).append(row)
        drop = []
        for photo, members in by_photo.items():
            if len(members) < 2:
                continue
            confirmed = [m for m in members if m[2]]
            if len(confirmed) > 1:
                path = db.execute("SELECT path FROM photos WHERE id = ?", (photo,)).fetchone()[0]
                raise LibraryError(f"{path}: two faces of this photo would both be confirmed as "
                                   f"{self._label(db, person_id)}; one photo cannot show a person twice")
            # Keep the confirmed face, else the one already in the person, else the first incoming one.
            keep = (confirmed or [m for m in members if m[3]] or sorted(members))[0]
            drop.extend(m[0] for m in members if m[0] != keep[0])
        if drop:
            db.execute(f"DELETE FROM assignments WHERE face_id IN ({_marks(drop)})", drop)
            for f in drop:
                incoming.remove(f) if f in incoming else None

    def _log(self, db: sqlite3.Connection, action: str, description: str, faces: Sequence[int],
             people: Sequence[int], created: Sequence[int] = ()) -> None:
        """Write the undo record: the rows about ``faces`` and ``people`` as they are now."""
        faces, people = _ids(faces), _ids(people)
        fm, pm = _marks(faces), _marks(people)
        q = lambda sql, args: [list(r) for r in db.execute(sql, args)] if args else []  # noqa: E731
        snapshot = {
            "faces": faces, "people": people, "created": list(created),
            "assignments": q(f"SELECT face_id, person_id, confirmed FROM assignments WHERE face_id IN ({fm}) "
                             f"OR person_id IN ({pm})", [*faces, *people]) if faces or people else [],
            "people_rows": q(f"SELECT id, name, created FROM people WHERE id IN ({pm})", people),
            "not_person": q(f"SELECT face_id, person_id FROM not_person WHERE face_id IN ({fm}) OR person_id "
                            f"IN ({pm})", [*faces, *people]) if faces or people else [],
            "dismissed": q(f"SELECT person_a, person_b FROM dismissed WHERE person_a IN ({pm}) OR person_b "
                           f"IN ({pm})", [*people, *people]),
            "rejected": q(f"SELECT id, rejected FROM faces WHERE id IN ({fm})", faces),
        }
        db.execute("INSERT INTO undo_log(action, description, snapshot, created) VALUES (?, ?, ?, ?)",
                   (action, description, json.dumps(snapshot), time.time()))
        db.execute("DELETE FROM undo_log WHERE id <= (SELECT max(id) FROM undo_log) - 200")

    @staticmethod
    def _restore(db: sqlite3.Connection, snap: dict) -> None:
        faces, people = snap["faces"], snap["people"]
        existing_faces = {r[0] for r in db.execute(f"SELECT id FROM faces WHERE id IN ({_marks(faces)})", faces)} \
            if faces else set()
        for pid, name, created in snap["people_rows"]:
            db.execute("INSERT INTO people(id, name, created) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                       "name = excluded.name", (pid, name, created))
        # Faces in the snapshot's people now, and the snapshot's faces: back to how they were filed.
        touched = set(faces) | ({r[0] for r in db.execute(f"SELECT face_id FROM assignments WHERE person_id IN "
                                                          f"({_marks(people)})", people)} if people else set())
        was = {f: (p, c) for f, p, c in snap["assignments"]}
        touched |= set(was)
        for f in touched:
            db.execute("DELETE FROM assignments WHERE face_id = ?", (f,))
            if f in was:
                db.execute("INSERT OR IGNORE INTO assignments(face_id, person_id, confirmed) SELECT ?, ?, ? "
                           "WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)", (f, *was[f], f))
        if faces or people:
            db.execute(f"DELETE FROM not_person WHERE face_id IN ({_marks(faces)}) OR person_id IN "
                       f"({_marks(people)})", [*faces, *people])
        db.executemany("INSERT OR IGNORE INTO not_person(face_id, person_id) SELECT ?, ? WHERE EXISTS "
                       "(SELECT 1 FROM faces WHERE id = ?)", [(f, p, f) for f, p in snap["not_person"]])
        if people:
            db.execute(f"DELETE FROM dismissed WHERE person_a IN ({_marks(people)}) OR person_b IN "
                       f"({_marks(people)})", [*people, *people])
        db.executemany("INSERT OR IGNORE INTO dismissed(person_a, person_b) VALUES (?, ?)", snap["dismissed"])
        db.executemany("UPDATE faces SET rejected = ? WHERE id = ?",
                       [(r, f) for f, r in snap["rejected"] if f in existing_faces])
        if snap["created"]:
            db.execute(f"DELETE FROM people WHERE id IN ({_marks(snap['created'])})", snap["created"])
        db.execute("DELETE FROM people WHERE name IS NULL AND id NOT IN (SELECT person_id FROM assignments)")
