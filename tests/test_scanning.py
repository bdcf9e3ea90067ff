"""Scanning real photos into a real SQLite library: albums, read-only folders, incremental and
resumable scans, bad files, folder walking."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from albums_support import (ENROLLMENT, GROUP, PHOTOS, albums, copy_photos, group_library_file, labelled_people,
                            pipeline, tree_digest)

from facereid_engine.library import Library
from facereid_engine.progress import Progress, run
from facereid_engine.library.scanning import ScanError, ScanSettings, sharpness, walk_photos

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def group_lib():
    before = tree_digest(GROUP)
    path = group_library_file()          # scanned straight from the read-only shared folder
    assert tree_digest(GROUP) == before
    with Library(path) as lib:
        yield lib


def _album_of(lib, root) -> dict[str, set[int | None]]:
    """Relative photo path -> the people its faces are filed under."""
    out: dict[str, set] = {}
    for face in lib.faces(root=root):
        out.setdefault(os.path.relpath(face.path, root), set()).add(face.person_id)
    return out


def test_no_album_holds_two_faces_of_one_photo(group_lib):
    assert group_lib.counts()["photos"] == 24 and group_lib.errors() == []
    for person in group_lib.people():
        photos = [f.photo_id for f in group_lib.faces(person.id)]
        assert len(photos) == len(set(photos)), person


def test_each_enrolled_person_is_one_album(group_lib):
    filed = _album_of(group_lib, GROUP)
    album_of = {}
    for name, photos in labelled_people().items():
        # The person's album: the one album present in every photo that shows them.
        common = set.intersection(*(filed[p] for p in photos)) - {None}
        if len(photos) > 1:
            assert len(common) == 1, (name, {p: filed[p] for p in photos})
            album_of[name] = common.pop()
        else:   # seen once: unsorted by default (an album needs two faces)
            assert filed[next(iter(photos))] == {None}, name
    assert len(set(album_of.values())) == len(album_of) == 6     # different people, different albums
    for name, pid in album_of.items():                            # no other enrolled person's photo in it
        enrolled = {os.path.relpath(f.path, GROUP).split(os.sep)[1] for f in group_lib.faces(pid)
                    if os.path.relpath(f.path, GROUP).startswith("enrollment")}
        assert enrolled == {name}


def test_progress_reports_files_and_faces(tmp_path):
    folder = copy_photos(tmp_path / "p", ["enrollment/biden/biden.jpg", "enrollment/obama/obama.jpg"])
    events: list[Progress] = []
    with Library(tmp_path / "lib.sqlite") as lib:
        result = run(lib.scan_work(folder, pipeline=pipeline()), events.append)
    per_photo = [e for e in events if e.message.endswith(".jpg")]
    assert [(e.done, e.total) for e in per_photo] == [(1, 2), (2, 2)]
    assert per_photo[0].message == str(folder / "enrollment/biden/biden.jpg")
    assert [e.info["faces"] for e in per_photo] == [1, 2]
    assert result.new == 2 and result.faces == 2 and result.decoded == 2


def test_incremental_rescans_decode_only_what_changed(tmp_path):
    names = ["enrollment/biden/biden.jpg", "enrollment/biden/biden2.jpg", "enrollment/obama/obama.jpg",
             "enrollment/obama/obama2.jpg", "photos/face_recognition_two_people.jpg"]
    folder = copy_photos(tmp_path / "p", names)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / ".hidden").mkdir()
    copy_photos(folder / ".hidden", ["enrollment/biden/biden.jpg"])
    with Library(tmp_path / "lib.sqlite") as lib:
        first = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (first.new, first.decoded, len(first.errors)) == (5, 6, 1)
        assert first.errors[0].path == str(folder / "broken.jpg") and lib.errors()[0].error
        snapshot = albums(lib, folder)
        assert len(snapshot) == 2 and first.grouped is not None

        again = run(lib.scan_work(folder, pipeline=pipeline()))      # unchanged: nothing decoded
        assert (again.decoded, again.unchanged, again.grouped) == (0, 6, None)
        assert albums(lib, folder) == snapshot

        copy_photos(folder, ["photos/face_recognition_obama1.jpg"])     # one new photo: only it
        added = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (added.decoded, added.new) == (1, 1)
        assert any(str(folder / "photos/face_recognition_obama1.jpg") in {f.path for f in lib.faces(p.id)}
                   for p in lib.people())

        face_ids = {f.id for f in lib.faces(root=folder / "enrollment/biden/biden.jpg")}
        os.utime(folder / "enrollment/biden/biden.jpg", ns=(1, 1))     # changed: redone, same face id
        changed = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (changed.decoded, changed.changed) == (1, 1)
        assert {f.id for f in lib.faces(root=folder / "enrollment/biden/biden.jpg")} == face_ids

        (folder / "enrollment/obama/obama2.jpg").unlink()               # removed: leaves the albums
        gone = run(lib.scan_work(folder, pipeline=pipeline()))
        assert (gone.decoded, gone.missing) == (0, 1)
        assert not lib.faces(root=folder / "enrollment/obama/obama2.jpg")
        assert lib.counts()["missing"] == 1 and lib.prune_missing() == 1


@pytest.mark.slow
def test_a_killed_scan_resumes_to_the_same_albums(tmp_path, group_lib):
    folder = copy_photos(tmp_path / "photos")
    before = tree_digest(folder)
    library = tmp_path / "lib.sqlite"
    code = ("import sys; from facereid_engine.library import Library\nfrom facereid_engine.library.scanning import ScanSettings\n"
            "lib = Library(sys.argv[1])\nfor event in lib.scan_work(sys.argv[2], ScanSettings(encoder='dlib')):\n"
            "    print(event.done, flush=True)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code, str(library), str(folder)], stdout=subprocess.PIPE,
                            env=env, text=True)
    try:
        done = 0
        while done < 6:                       # let it store a few photos, then kill it mid-scan
            line = proc.stdout.readline()
            assert line, "the scanner ended early"
            done = int(line.split()[0])
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with Library(library) as lib:             # the library opens and keeps what was committed
        kept = lib.counts()["photos"]
        assert 6 <= kept < 24
        result = run(lib.scan_work(folder, pipeline=pipeline()))
        assert result.unchanged == kept and result.new == 24 - kept
        assert albums(lib, folder) == albums(group_lib, GROUP)
    assert tree_digest(folder) == before      # the photos were only read


def test_walk_skips_hidden_and_survives_link_loops(tmp_path):
    folder = copy_photos(tmp_path / "p", ["enrollment/biden/biden.jpg"])
    (folder / "enrollment" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x.jpg").write_bytes((GROUP / "enrollment/biden/biden.jpg").read_bytes())
    (folder / ".dot.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a photo")
    (folder / "UPPER.JPG").write_bytes(b"")
    found = walk_photos(folder)
    assert found == sorted([str(folder / "UPPER.JPG"), str(folder / "enrollment/biden/biden.jpg")])


def test_scan_of_a_missing_folder_is_a_typed_error(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        with pytest.raises(ScanError, match="folder not found"):
            run(lib.scan_work(tmp_path / "nope"))


def test_sharpness_tells_blur():
    from PIL import Image, ImageFilter
    from facereid_engine.images import load_image
    image = load_image(ENROLLMENT / "obama" / "obama.jpg")
    faces = pipeline().find_faces(image)
    chip = pipeline().chips(image, faces)[0]
    blurred = np.asarray(Image.fromarray(chip).filter(ImageFilter.GaussianBlur(3)))
    assert sharpness(chip) > 4 * sharpness(blurred)


def test_scan_settings_presets():
    from facereid_engine.library.scanning import DETAIL
    assert DETAIL["normal"] == (ScanSettings().max_side, ScanSettings().upsample)
    assert ScanSettings(upsample=1).detector == "mmod max_side=2048 upsample=1"
    assert PHOTOS.is_dir()
