"""The SQLite library: schema and transactions, and the user's corrections on real scanned albums —
each persists, survives a regroup, and can be undone."""
from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
from albums_support import GROUP, copy_library, group_library_file, tree_digest

from facereid_engine.library import SCHEMA_VERSION, Library, LibraryError
from facereid_engine.library.types import FaceRecord


@pytest.fixture
def lib(tmp_path):
    group_library_file()
    with Library(copy_library(tmp_path / "lib.sqlite")) as library:
        yield library


def person_of(lib, name: str) -> int:
    """The album holding the enrolled photos of ``name``."""
    ids = {f.person_id for f in lib.faces(root=GROUP / "enrollment" / name)}
    assert len(ids) == 1
    return ids.pop()


def album_paths(lib, pid) -> set[str]:
    return {os.path.relpath(f.path, GROUP) for f in lib.faces(pid)}


def test_schema_is_versioned_and_in_wal_mode(tmp_path):
    path = tmp_path / "new.sqlite"
    Library(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(LibraryError, match="newer than this FaceReID"):
        Library(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all, just some bytes" * 20)
    with pytest.raises(LibraryError, match="not a FaceReID library"):
        Library(junk)
    with pytest.raises(LibraryError, match="is a folder"):
        Library(tmp_path)


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    face = FaceRecord(box=(1, 2, 50, 60), score=1.0, landmarks=np.zeros((5, 2)), sharpness=50.0,
                      embedding=np.ones(128, np.float32))
    bad = FaceRecord(box=(1, 2, 50, 60), score=1.0, landmarks=np.zeros((5, 2)), sharpness=50.0,
                     embedding=object())  # cannot be stored: the whole photo must roll back
    with Library(tmp_path / "lib.sqlite") as lib:
        with pytest.raises(TypeError):
            lib.record_photo("/photos/a.jpg", 10, 20, 100, 100, [face, bad], "dlib", "mmod")
        assert lib.counts()["photos"] == 0 and lib.counts()["faces"] == 0
        pid = lib.record_photo("/photos/a.jpg", 10, 20, 100, 100, [face], "dlib", "mmod")
        assert {k: v[:5] for k, v in lib.photo_index("/photos").items()} == {"/photos/a.jpg": (pid, 10, 20, "done", False)}
        assert lib.photo_index("/photo") == {}          # a prefix of a folder name is not the folder
        moved = FaceRecord(box=(3, 4, 52, 62), score=0.9, landmarks=np.zeros((5, 2)), sharpness=40.0,
                           embedding=np.zeros(128, np.float32))
        before = lib.faces()[0].id
        lib.record_photo("/photos/a.jpg", 11, 21, 100, 100, [moved], "dlib", "mmod")
        assert [f.id for f in lib.faces()] == [before] and lib.faces()[0].box == (3, 4, 52, 62)
        assert lib.embeddings([before]).sum() == 0


def test_rename_persists_and_survives_regroup(lib, tmp_path):
    obama = person_of(lib, "obama")
    lib.rename(obama, "  Barack Obama ")
    lib.group(full=True)
    lib.close()
    with Library(lib.path) as again:
        assert again.person(obama).name == "Barack Obama"
        assert again.person(obama).confirmed_count == again.person(obama).face_count == 5
        assert "enrollment/obama/obama.jpg" in album_paths(again, obama)


def test_merge_split_move_and_undo(lib):
    biden, obama = person_of(lib, "biden"), person_of(lib, "obama")
    lib.rename(obama, "Obama")
    with pytest.raises(LibraryError, match="cannot show a person twice"):
        lib.rename(biden, "Biden") or lib.merge([biden, obama])   # both confirmed in the same photos
    assert lib.undo() == "rename Person %d to Biden" % biden
    kept = lib.merge([biden, obama])                 # Biden's guesses in shared photos give way
    assert kept == obama and lib.person(obama).name == "Obama"
    assert "enrollment/biden/biden.jpg" in album_paths(lib, obama)
    photos = [f.photo_id for f in lib.faces(obama)]
    assert len(photos) == len(set(photos))
    assert lib.undo().startswith("merge")
    assert album_paths(lib, biden) >= {"enrollment/biden/biden.jpg", "enrollment/biden/biden2.jpg"}

    faces = [f.id for f in lib.faces(root=GROUP / "enrollment" / "biden")]
    new = lib.split(faces, name="Joe")
    lib.group(full=True)
    assert album_paths(lib, new) == {"enrollment/biden/biden.jpg", "enrollment/biden/biden2.jpg"}
    assert "photos/face_recognition_two_people.jpg" in album_paths(lib, biden)   # kept apart by the split
    lib.move_faces([f.id for f in lib.faces(biden)], new)
    assert lib.faces(biden) == [] and len(lib.faces(new)) == 4
    assert lib.undo().startswith("move") and len(lib.faces(biden)) == 2
    assert lib.undo().startswith("split") and len(lib.faces(biden)) == 4
    with pytest.raises(LibraryError, match="no person with id"):
        lib.person(new)


def test_not_this_person_is_never_undone_by_a_regroup(lib):
    obama = person_of(lib, "obama")
    face = next(f for f in lib.faces(obama) if f.path.endswith("obama2.jpg"))
    lib.not_this_person([face.id])
    assert face.id in {f.id for f in lib.unsorted()}
    for _ in range(2):
        lib.group(full=True)
        assert face.id not in {f.id for f in lib.faces(obama)}
    assert lib.undo().endswith(f"are not Person {obama}")
    lib.group(full=True)
    assert face.id in {f.id for f in lib.faces(obama)}


def test_not_a_face_leaves_every_album(lib):
    obama = person_of(lib, "obama")
    face = lib.faces(obama)[0]
    lib.not_a_face([face.id])
    lib.group(full=True)
    assert face.id not in {f.id for f in lib.faces()} and lib.counts()["faces"] == 37
    lib.undo()
    assert lib.face(face.id).person_id == obama


def test_named_people_keep_id_and_new_faces_join_them(lib):
    ids = {name: person_of(lib, name) for name in ("obama", "kit_harington", "angelina_jolie")}
    for name, pid in ids.items():
        lib.rename(pid, name.title())
    before = {pid: album_paths(lib, pid) for pid in ids.values()}
    unnamed = {p.id: album_paths(lib, p.id) for p in lib.people() if p.name is None}
    lib.group(full=True)
    assert {pid: album_paths(lib, pid) for pid in ids.values()} == before
    assert {p.id: album_paths(lib, p.id) for p in lib.people() if p.name is None} == unnamed   # stable ids


def test_suggestions_and_dismissals(lib):
    obama = person_of(lib, "obama")
    faces = [f.id for f in lib.faces(obama)]
    lib.split(faces[:2])                        # cut Obama in two: the halves should be suggested
    pair = next(s for s in lib.suggestions() if obama in (s.person_a, s.person_b))
    assert pair.distance < lib.group_settings().suggest_threshold
    lib.dismiss_suggestion(pair.person_a, pair.person_b)
    assert all({s.person_a, s.person_b} != {pair.person_a, pair.person_b} for s in lib.suggestions())
    assert lib.last_correction().startswith("keep")


def test_group_settings_persist_and_validate(lib):
    lib.set_group_settings(min_face_size=2000)
    assert lib.group_settings().min_face_size == 2000
    stats = lib.group(full=True)          # every face too small to seed: no person at all
    assert stats.people == 0 and stats.unsorted == 38
    with pytest.raises(Exception, match="unknown group setting"):
        lib.set_group_settings(colour="red")


def test_corrections_never_touch_the_photos(lib):
    before = tree_digest(GROUP)
    obama = person_of(lib, "obama")
    lib.rename(obama, "Obama")
    lib.not_a_face([lib.faces(obama)[0].id])
    lib.undo()
    assert tree_digest(GROUP) == before


def _records(lib) -> dict[str, tuple]:
    """Every photo of a library as the scanner would hand it over: path -> (size, mtime, w, h, faces)."""
    photos: dict[str, tuple] = {}
    with lib._read() as db:
        rows = db.execute("SELECT id, path, size, mtime_ns, width, height FROM photos").fetchall()
    for pid, path, size, mtime, w, h in rows:
        faces = []
        for face_id, box, landmarks in lib.photo_faces(pid):
            info = lib.face(face_id)
            faces.append(FaceRecord(box=box, score=info.score, landmarks=landmarks, sharpness=info.sharpness,
                                    embedding=lib.embeddings([face_id])[0]))
        photos[path] = (size, mtime, w, h, faces)
    return photos


def test_albums_do_not_depend_on_the_scan_order(tmp_path):
    from albums_support import albums
    with Library(group_library_file()) as scanned:
        records, expected = _records(scanned), albums(scanned, GROUP)
    for seed in (1, 2):
        order = list(records)
        np.random.default_rng(seed).shuffle(order)
        with Library(tmp_path / f"shuffled{seed}.sqlite") as lib:
            for i, path in enumerate(order):
                size, mtime, w, h, faces = records[path]
                lib.record_photo(path, size, mtime, w, h, faces[::-1] if i % 2 else faces, "dlib", "mmod")
                if i == len(order) // 2:
                    lib.group()                 # an earlier grouping of half the photos changes nothing
            lib.group()
            assert albums(lib, GROUP) == expected


def test_new_faces_are_placed_without_a_full_regroup(tmp_path):
    from albums_support import albums
    with Library(group_library_file()) as scanned:
        records, expected = _records(scanned), albums(scanned, GROUP)
    late = [str(GROUP / "photos" / "face_recognition_obama1.jpg"), str(GROUP / "enrollment" / "biden" / "biden2.jpg")]
    with Library(tmp_path / "lib.sqlite") as lib:
        for path in sorted(records, key=lambda p: p in late):
            if path == late[0]:
                lib.group(full=True)
                obama = person_of(lib, "obama")
                lib.rename(obama, "Obama")
            lib.record_photo(path, *records[path], "dlib", "mmod")
        stats = lib.group(full=False)
        assert stats.faces == 38 and albums(lib, GROUP) == expected
        assert "photos/face_recognition_obama1.jpg" in album_paths(lib, obama)
