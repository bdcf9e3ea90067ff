"""Opening a library file safely, and the one connection (behind a lock) the rest of the library uses.

A file is opened only when it is ours: marked with :data:`~.schema.APPLICATION_ID`, or a library
written before the mark existed (``user_version`` set, FaceReID's tables present), which gets the
mark when opened for writing. Anything else (another program's database, an empty or truncated
file, a damaged library) is refused with a :class:`~.schema.LibraryError` naming the file, before
anything is written to it. A library opened ``readonly`` is never written (no schema change, no
journal-mode switch, no mark).
"""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..paths import default_library_path
from .schema import APPLICATION_ID, SCHEMA_VERSION, TABLES, LibraryError, migrate

#: Seconds a write waits for another connection (e.g. another FaceReID) to finish before giving up.
BUSY_TIMEOUT = 30.0


def library_error(path: str | os.PathLike, exc: sqlite3.DatabaseError) -> LibraryError:
    """The :class:`LibraryError` for an SQLite error met while using the library at ``path``."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return LibraryError(f"{path}: the library is in use by another FaceReID (or another program) "
                            f"and stayed busy; close it and try again")
    return LibraryError(f"{path}: the library file is damaged or unreadable ({text}); restore it from a "
                        f"backup or choose another library file")


def _connect(target: str, timeout: float, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri)


def open_library(path: Path, *, readonly: bool = False, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection to the FaceReID library at ``path`` (created when missing, unless ``readonly``)."""
    if path.is_dir():
        raise LibraryError(f"{path}: is a folder, not a library file")
    if not path.exists():
        if readonly:
            raise LibraryError(f"{path}: no library there yet (scan a folder of photos first)")
        _create(path, timeout)
    elif path.stat().st_size == 0:
        raise LibraryError(f"{path}: the file is empty (0 bytes), not a FaceReID library; FaceReID leaves "
                           f"it alone: delete it or choose another library file")
    try:
        conn = _connect(path.absolute().as_uri() + "?mode=ro", timeout, uri=True) if readonly \
            else _connect(str(path), timeout)
    except sqlite3.DatabaseError as exc:
        raise library_error(path, exc) from exc
    try:
        _prepare(conn, path, readonly)
    except BaseException:
        conn.close()
        raise
    return conn


def _create(path: Path, timeout: float) -> None:
    """A new, complete library at ``path``: built under a temporary name and linked into place, so a
    crash never leaves a half-made file and an existing file is never replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        conn = _connect(str(tmp), timeout)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn, tmp, 0)
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # made by another FaceReID meanwhile: open that one
        except OSError:  # no hard links on this file system
            if not path.exists():
                os.replace(tmp, path)
    except sqlite3.DatabaseError as exc:
        raise library_error(path, exc) from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
    """Check that the file is a FaceReID library in good order; for writing, mark and migrate it."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise library_error(path, exc) from exc
        raise LibraryError(f"{path}: not a FaceReID library ({exc})") from exc
    if app_id not in (0, APPLICATION_ID):
        raise LibraryError(f"{path}: not a FaceReID library (an SQLite database of another program, "
                           f"application_id {app_id:#010x}); FaceReID leaves it alone")
    missing = sorted(set(TABLES) - tables)
    if app_id == 0:
        if version >= 1 and not tables & set(TABLES):
            raise LibraryError(f"{path}: says it is schema version {version} but holds none of FaceReID's "
                               f"tables: not a FaceReID library (or a damaged one); FaceReID leaves it alone")
        if version == 0 or missing:
            what = f"tables {', '.join(sorted(tables)[:5])}" if tables else "no tables"
            raise LibraryError(f"{path}: not a FaceReID library (an SQLite database with {what}); "
                               f"FaceReID leaves it alone")
    elif version >= 1 and missing:
        raise LibraryError(f"{path}: a damaged FaceReID library (tables missing: {', '.join(missing)})")
    if version > SCHEMA_VERSION:
        raise LibraryError(f"{path}: library schema version {version} is newer than this FaceReID "
                           f"understands ({SCHEMA_VERSION}); upgrade FaceReID")
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        if readonly:
            if version < SCHEMA_VERSION:
                raise LibraryError(f"{path}: library schema version {version} needs an upgrade; open it "
                                   f"for writing once (e.g. scan a folder)")
            return
        check = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        if check != ["ok"]:
            raise LibraryError(f"{path}: the library file is damaged ({'; '.join(check)}); restore it from "
                               f"a backup or choose another library file")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn, path, version)
        if app_id == 0:      # a library from before the mark: ours (checked above), so mark it
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.DatabaseError as exc:
        raise library_error(path, exc) from exc


class Database:
    """One library file behind one connection and a lock (safe to share between threads)."""

    def __init__(self, path: str | os.PathLike | None = None, *, readonly: bool = False,
                 timeout: float = BUSY_TIMEOUT):
        self.path = Path(path) if path is not None else default_library_path()
        self.readonly = readonly
        self._conn: sqlite3.Connection = open_library(self.path, readonly=readonly, timeout=timeout)
        self._lock = threading.RLock()
        self._batch_depth = 0  # > 0 while this thread holds a batch() transaction open

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LibraryError(f"{self.path}: the library is closed")
        return self._conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (an import of thousands of photos commits once per batch
        instead of once per photo). The writes inside join it; all of them commit together at the
        end, or none of them if an exception leaves the block. Other threads wait meanwhile."""
        with self._write():
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside commits together or not at all (inside
        :meth:`batch`, together with the rest of the batch)."""
        with self._lock:
            conn = self._open_conn()
            if self.readonly:
                raise LibraryError(f"{self.path}: the library is open read-only")
            if self._batch_depth and conn.in_transaction:
                conn.execute("SAVEPOINT one_write")  # a failed write inside a batch undoes only itself
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO one_write")
                    raise
                finally:
                    conn.execute("RELEASE one_write")
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError):
                    raise library_error(self.path, exc) from exc
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one snapshot) over several statements."""
        with self._lock:
            conn = self._open_conn()
            if conn.in_transaction:
                yield conn
                return
            try:
                conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    conn.execute("COMMIT")
            except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
                if type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError):
                    raise library_error(self.path, exc) from exc
                raise

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                       "excluded.value", (key, value))
