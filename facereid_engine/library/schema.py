"""The library's SQLite schema, its version (``PRAGMA user_version``), its mark
(``PRAGMA application_id`` = :data:`APPLICATION_ID`) and the migrations to it."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import FaceReIDError

SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of every FaceReID library: the bytes "FRID" (0x46524944). A file without
#: it is not ours (see :mod:`.database`), except a library written before the mark existed
#: (``user_version`` set, FaceReID's tables present, id 0), which is marked when opened for writing.
APPLICATION_ID = 0x46524944
#: Tables every FaceReID library has (schema 1 on).
TABLES = ("meta", "photos", "faces", "embeddings", "people", "assignments", "not_person", "dismissed", "undo_log")
# A face is shown in the albums when it is not rejected and its photo is present and readable
# (``f``: faces, ``ph``: photos).
VISIBLE = "f.rejected = 0 AND ph.missing = 0 AND ph.status = 'done'"

# Each entry brings a database from version ``i`` to ``i + 1``; never edit a released step,
# append a new one.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- One row per photo file seen. ``status`` is 'done' (detected; its faces are below) or 'error'.
    -- ``missing`` = 1: the file was not found by the last scan of its folder (faces leave the albums).
    CREATE TABLE photos (
        id        INTEGER PRIMARY KEY,
        path      TEXT    NOT NULL UNIQUE,
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        width     INTEGER,
        height    INTEGER,
        status    TEXT    NOT NULL CHECK (status IN ('done', 'error')),
        error     TEXT,
        missing   INTEGER NOT NULL DEFAULT 0,
        detector  TEXT,
        scanned_at REAL   NOT NULL
    );
    -- A face: dlib-style inclusive box in original pixels, detection score, 5 landmarks
    -- (float32 x, y pairs), sharpness of its aligned chip, and ``rejected`` ("not a face").
    CREATE TABLE faces (
        id        INTEGER PRIMARY KEY,
        photo_id  INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        left      INTEGER NOT NULL,
        top       INTEGER NOT NULL,
        right     INTEGER NOT NULL,
        bottom    INTEGER NOT NULL,
        score     REAL    NOT NULL,
        landmarks BLOB    NOT NULL,
        sharpness REAL    NOT NULL,
        rejected  INTEGER NOT NULL DEFAULT 0,
        thumbnail BLOB
    );
    CREATE INDEX faces_photo ON faces(photo_id);
    CREATE TABLE embeddings (
        face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        encoder TEXT    NOT NULL,
        vector  BLOB    NOT NULL,
        PRIMARY KEY (face_id, encoder)
    ) WITHOUT ROWID;
    CREATE TABLE people (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        name    TEXT,
        created REAL NOT NULL
    );
    -- confirmed = 1: the user's fact (kept by every regroup); 0: the clustering's guess.
    CREATE TABLE assignments (
        face_id   INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        confirmed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX assignments_person ON assignments(person_id);
    -- "This face is not this person."
    CREATE TABLE not_person (
        face_id   INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        PRIMARY KEY (face_id, person_id)
    ) WITHOUT ROWID;
    -- Merge suggestions the user dismissed (person_a < person_b).
    CREATE TABLE dismissed (
        person_a INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        person_b INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        PRIMARY KEY (person_a, person_b),
        CHECK (person_a < person_b)
    ) WITHOUT ROWID;
    -- One row per correction: what it was, and the rows it changed as they were before (JSON).
    CREATE TABLE undo_log (
        id          INTEGER PRIMARY KEY,
        action      TEXT NOT NULL,
        description TEXT NOT NULL,
        snapshot    TEXT NOT NULL,
        created     REAL NOT NULL
    );
    """,
]
assert len(_MIGRATIONS) == SCHEMA_VERSION


class LibraryError(FaceReIDError):
    """The library file cannot be opened or used (foreign, damaged, newer schema, busy, bad request)."""


def migrate(conn: sqlite3.Connection, path: str | Path, version: int) -> None:
    """Bring a FaceReID library from schema ``version`` to :data:`SCHEMA_VERSION`, one step per transaction."""
    for step in range(version, SCHEMA_VERSION):
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _split(_MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise LibraryError(f"{path}: cannot upgrade the library to schema {step + 1} ({exc})") from exc


def _split(script: str) -> list[str]:
    """The statements of a migration script (no statement holds a ';' inside a literal)."""
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
