"""Which files the library opens: only FaceReID's own (application_id), never writing to another's,
and every damaged, empty, foreign or busy file reported as a LibraryError naming it."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest
from albums_support import copy_library, group_library_file

from facereid_engine.cli import main
from facereid_engine.library import APPLICATION_ID, Library, LibraryError


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pragma(path, name: str):
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        db.close()


def _foreign(path, application_id: int = 0):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    db.execute("INSERT INTO notes(text) VALUES ('another program''s data')")
    if application_id:
        db.execute(f"PRAGMA application_id = {application_id}")
    db.commit()
    db.close()
    return path


def test_a_new_library_carries_our_application_id(tmp_path):
    Library(tmp_path / "new.sqlite").close()
    assert _pragma(tmp_path / "new.sqlite", "application_id") == APPLICATION_ID == 0x46524944
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.sqlite"]      # no temporary file left


@pytest.mark.parametrize("application_id, message", [(0, "not a FaceReID library"), (1234, "another program")])
def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path, capsys, application_id, message):
    other = _foreign(tmp_path / "other.sqlite", application_id)
    before = _digest(other)
    for args in (["--list"], ["--list", "--json"], ["--suggest"], [str(tmp_path), "--no-progress"]):
        assert main(["albums", "--library", str(other), *args]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(LibraryError, match=message):
        Library(other)
    with pytest.raises(LibraryError, match=message):
        Library(other, readonly=True)
    assert _digest(other) == before and _pragma(other, "journal_mode") == "delete"
    db = sqlite3.connect(other)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]
    db.close()


def test_empty_and_unmarked_files_are_reported_not_replaced(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(LibraryError, match=f"{empty}: the file is empty"):
        Library(empty)
    assert empty.read_bytes() == b""
    versioned = tmp_path / "versioned.sqlite"
    db = sqlite3.connect(versioned)
    db.execute("PRAGMA user_version = 1")
    db.close()
    with pytest.raises(LibraryError, match="schema version 1 but holds none of FaceReID's tables"):
        Library(versioned)
    assert _pragma(versioned, "user_version") == 1 and _pragma(versioned, "application_id") == 0


def test_a_library_from_before_the_mark_still_opens_and_gets_marked(tmp_path):
    path = copy_library(tmp_path / "old.sqlite")
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 0")
    db.commit()
    db.close()
    with Library(path, readonly=True) as lib:             # reading: opens, changes nothing
        people = len(lib.people())
    assert _pragma(path, "application_id") == 0 and people == 7
    with Library(path) as lib:                            # writing: marked
        assert len(lib.people()) == 7
    assert _pragma(path, "application_id") == APPLICATION_ID


def test_listing_never_writes_to_the_library(tmp_path, capsys):
    path = copy_library(tmp_path / "lib.sqlite")
    with Library(path):
        pass
    before = _digest(path)
    assert main(["albums", "--library", str(path), "--list"]) == 0
    assert main(["albums", "--library", str(path), "--suggest", "--json"]) == 0
    assert _digest(path) == before
    with Library(path, readonly=True) as lib:
        with pytest.raises(LibraryError, match="read-only"):
            lib.rename(lib.people()[0].id, "X")
    assert main(["albums", "--library", str(tmp_path / "none.sqlite"), "--list"]) == 2
    assert "no library there yet" in capsys.readouterr().err and not (tmp_path / "none.sqlite").exists()


def test_a_damaged_library_is_refused_before_anything_is_written(tmp_path):
    path = copy_library(tmp_path / "lib.sqlite")
    Library(path).close()
    page = _pragma(path, "page_size")
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * page
    for offset in range(2 * page, len(data) - page, 3 * page):      # garbage over every third page
        data[offset:offset + page] = bytes([0x5A]) * page
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(LibraryError, match=f"{path}: the library file is damaged"):
        Library(path)
    assert _digest(path) == before


def test_a_busy_library_says_another_facereid_is_using_it(tmp_path):
    path = copy_library(tmp_path / "lib.sqlite")
    with Library(path, timeout=0.2) as lib:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")           # another FaceReID in the middle of a write
        try:
            with pytest.raises(LibraryError, match="in use by another FaceReID"):
                lib.rename(lib.people()[0].id, "Busy")
            assert lib.people()[0].name is None    # reading goes on
        finally:
            other.execute("ROLLBACK")
            other.close()
        lib.rename(lib.people()[0].id, "Free")
    assert group_library_file().exists()
