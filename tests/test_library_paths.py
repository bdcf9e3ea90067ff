"""One photo, one path: a folder scanned through a link, a file reached by several paths and a
photo that failed once are each stored once, keep the user's facts, and are read again when fixed."""
from __future__ import annotations

import os
import sqlite3

from albums_support import GROUP, copy_photos, library_of, pipeline

from facereid_engine.library import Library
from facereid_engine.library.scanning import find_photos, walk_photos
from facereid_engine.progress import run

NAMES = ["enrollment/obama/obama.jpg", "enrollment/obama/obama2.jpg"]


def _confirmed(lib) -> dict[str, int]:
    return {os.path.basename(f.path): f.person_id for f in lib.faces() if f.confirmed}


def test_a_link_elsewhere_in_the_folder_does_not_take_the_photo_over(tmp_path):
    folder = copy_photos(tmp_path / "p", NAMES)
    with library_of(tmp_path / "lib.sqlite", {folder / n: n for n in NAMES}, folder) as lib:
        person = lib.split([f.id for f in lib.faces()], name="Obama")
        (folder / "zz_favourites").mkdir()
        (folder / "zz_favourites" / "best.jpg").symlink_to("../enrollment/obama/obama.jpg")
        (folder / "aa_album").symlink_to(folder / "enrollment", target_is_directory=True)
        result = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (result.photos, result.new, result.missing, result.decoded) == (2, 0, 0, 0), result.summary()
        assert lib.person(person).confirmed_count == 2
        assert {f.path for f in lib.faces(person)} == {str(folder / n) for n in NAMES}


def test_one_file_has_one_path_whatever_the_walk_order(tmp_path):
    folder = copy_photos(tmp_path / "p", NAMES)
    original = str(folder / NAMES[0])
    for name in ("aa.jpg", "zz.jpg"):                  # a link before and after the file in the walk
        (folder / name).symlink_to(original)
        photos, aliases = find_photos(folder)
        assert photos == [str(folder / n) for n in NAMES] and aliases == {str(folder / name): original}
        (folder / name).unlink()
    os.link(original, folder / "hard.jpg")             # two real paths: the smaller, in any order
    assert walk_photos(folder) == sorted([str(folder / NAMES[1]), min(original, str(folder / "hard.jpg"))])
    outside = copy_photos(tmp_path / "outside", ["enrollment/biden/biden.jpg"])
    (folder / "b1").symlink_to(outside, target_is_directory=True)
    (folder / "b2").symlink_to(outside, target_is_directory=True)
    assert str(folder / "b1/enrollment/biden/biden.jpg") in walk_photos(folder)
    assert not any("/b2/" in p for p in walk_photos(folder))


def test_a_photo_known_under_a_link_moves_to_its_own_path_with_its_facts(tmp_path):
    folder = copy_photos(tmp_path / "p", NAMES)
    favourite = folder / "zz_favourites" / "best.jpg"
    favourite.parent.mkdir()
    os.rename(folder / NAMES[0], favourite)            # an older FaceReID stored the photo by this path
    files = {favourite: NAMES[0], folder / NAMES[1]: NAMES[1]}
    with library_of(tmp_path / "lib.sqlite", files, folder) as lib:
        person = lib.split([f.id for f in lib.faces()], name="Obama")
        faces = {f.id for f in lib.faces()}
        os.rename(favourite, folder / NAMES[0])
        favourite.symlink_to("../enrollment/obama/obama.jpg")
        result = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (result.new, result.missing, result.decoded) == (0, 0, 0), result.summary()
        assert {f.id for f in lib.faces(person)} == faces and lib.person(person).confirmed_count == 2
        assert str(folder / NAMES[0]) in {f.path for f in lib.faces(person)}


def test_a_folder_scanned_through_a_link_is_one_folder(tmp_path):
    real = copy_photos(tmp_path / "real" / "p", NAMES)
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    linked = tmp_path / "link" / "p"
    with library_of(tmp_path / "lib.sqlite", {real / n: n for n in NAMES}, real) as lib:
        person = lib.split([f.id for f in lib.faces()], name="Obama")
        result = run(lib.scan_work(linked, pipeline=pipeline()))
        assert (result.folder, result.new, result.decoded, lib.counts()["faces"]) == (str(real), 0, 0, 2)
        assert lib.roots() == [str(real)] and len(lib.faces(root=linked)) == 2
        faces = {f.id for f in lib.faces()}
    # A library from before roots were resolved: root and photos stored through the link.
    db = sqlite3.connect(tmp_path / "lib.sqlite")
    db.execute("UPDATE photos SET path = replace(path, ?, ?)", (str(real), str(linked)))
    db.execute("UPDATE meta SET value = ? WHERE key = 'roots'", (f'["{linked}"]',))
    db.commit()
    db.close()
    with Library(tmp_path / "lib.sqlite") as lib:
        for folder in (real, linked):
            result = run(lib.scan_work(folder, pipeline=pipeline()))
            assert (result.new, result.missing, result.decoded) == (0, 0, 0), result.summary()
            assert {f.id for f in lib.faces()} == faces and lib.person(person).confirmed_count == 2
            assert lib.roots() == [str(real)] and {os.path.dirname(f.path) for f in lib.faces()} == \
                {str(real / "enrollment/obama")}


def test_a_failed_photo_is_read_again_once_fixed(tmp_path):
    folder = copy_photos(tmp_path / "p", [NAMES[0]])
    photo = folder / NAMES[0]
    good = photo.read_bytes()
    photo.write_bytes(b"BAD!" + good[4:])             # same size: only the header is broken
    with Library(tmp_path / "lib.sqlite") as lib:
        first = run(lib.scan_work(folder, pipeline=pipeline()))
        assert len(first.errors) == 1 and lib.counts()["errors"] == 1
        mtime = photo.stat().st_mtime_ns
        again = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (again.decoded, again.unchanged) == (0, 1)                  # unchanged: not read again
        photo.write_bytes(good)                        # fixed in place, same size and time (e.g. restored)
        os.utime(photo, ns=(mtime, mtime))
        fixed = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (fixed.decoded, fixed.retried, fixed.errors, fixed.faces) == (1, 1, [], 1), fixed.summary()
        assert "1 read again after an error" in fixed.summary() and lib.counts()["errors"] == 0
        photo.write_bytes(b"BAD!" + good[4:])
        run(lib.scan_work(folder, pipeline=pipeline()))
        assert lib.failed_roots() == [str(folder)]
        retried = run(lib.retry_failed_work(pipeline=pipeline()))          # on request, even unchanged
        assert [(r.decoded, len(r.errors)) for r in retried] == [(1, 1)]
    assert GROUP.is_dir()
