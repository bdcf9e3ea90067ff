"""Shared, expensive state for the albums tests: one pipeline and one scan of the group photos per
test process (the dlib pipeline costs 0.2–2 s per photo), plus small helpers."""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from functools import lru_cache
from pathlib import Path

from data_paths import GROUP

PHOTOS = GROUP / "photos"
ENROLLMENT = GROUP / "enrollment"


@lru_cache(maxsize=1)
def pipeline():
    from facereid_engine.pipeline import FacePipeline
    return FacePipeline("dlib")


@lru_cache(maxsize=1)
def group_library_file() -> Path:
    """A library file holding a scan of the read-only shared group_photos folder, made once."""
    from facereid_engine.library import Library
    from facereid_engine.progress import run
    path = Path(tempfile.mkdtemp(prefix="facereid-albums-")) / "group.sqlite"
    with Library(path) as lib:
        result = run(lib.scan_work(GROUP, pipeline=pipeline()))
        assert result.errors == [] and result.new == 24, result.summary()
    return path


def copy_library(dest: Path) -> Path:
    """A private copy of the scanned group library (SQLite's own backup, WAL included)."""
    src = sqlite3.connect(group_library_file())
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return dest


def labelled_people() -> dict[str, set[str]]:
    """Enrolled person -> the photos (relative to group_photos) that show them, from labels.tsv."""
    people: dict[str, set[str]] = {p.name: {str(f.relative_to(GROUP)) for f in sorted(p.iterdir())}
                                   for p in ENROLLMENT.iterdir()}
    for line in (GROUP / "labels.tsv").read_text().splitlines()[1:]:
        photo, present = line.split("\t")[:2]
        for name in present.split(","):
            if name in people:
                people[name].add(photo)
    return people


def tree_digest(folder: Path) -> dict[str, str]:
    """Hash of every file (and link target) under ``folder``, by relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + f":{path.stat().st_mtime_ns}"
            else:
                out[rel] = "dir"
    return out


def copy_photos(dest: Path, names: list[str] | None = None) -> Path:
    """A writable copy of group_photos (or of the listed relative paths) at ``dest``."""
    if names is None:
        shutil.copytree(GROUP, dest)
    else:
        for name in names:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(GROUP / name, dest / name)
    return dest


def albums(lib, root) -> set[frozenset]:
    """The albums as sets of (photo relative to root, box): comparable across libraries."""
    out = set()
    for person in lib.people():
        faces = lib.faces(person.id, root=root)
        if faces:
            out.add(frozenset((os.path.relpath(f.path, root), f.box) for f in faces))
    return out


def stored_faces(relative: str) -> tuple[int, int, list]:
    """(width, height, FaceRecords) of a group photo as the scan stored it: lets a test fill a
    library with real faces under other paths without running the detector."""
    from facereid_engine.library import Library
    from facereid_engine.library.types import FaceRecord
    with Library(group_library_file(), readonly=True) as lib:
        with lib._read() as db:
            pid, w, h = db.execute("SELECT id, width, height FROM photos WHERE path = ?",
                                   (str(GROUP / relative),)).fetchone()
        faces = []
        for face_id, box, landmarks in lib.photo_faces(pid):
            info = lib.face(face_id)
            faces.append(FaceRecord(box=box, score=info.score, landmarks=landmarks, sharpness=info.sharpness,
                                    embedding=lib.embeddings([face_id])[0], thumbnail=lib.face_thumbnail(face_id)))
    return w, h, faces


def library_of(path: Path, photos: dict[Path, str], root: Path):
    """A library at ``path`` holding ``photos`` (file -> the group photo it is a copy of), as a scan
    of ``root`` would store them (same sizes and times, so a rescan reads nothing)."""
    from facereid_engine.library import Library
    lib = Library(path)
    lib.add_root(root)
    for file, relative in photos.items():
        st = os.stat(file)
        w, h, faces = stored_faces(relative)
        lib.record_photo(os.path.realpath(file), st.st_size, st.st_mtime_ns, w, h, faces, "dlib",
                         "mmod max_side=2048 upsample=0")
    return lib
