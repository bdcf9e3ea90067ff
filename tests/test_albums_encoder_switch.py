"""A library grouped with one encoder is re-grouped with another (``facereid albums DIR --encoder``):
known faces get the new encoder's embeddings without a new detection, the user's corrections stay."""
from __future__ import annotations

import json

import pytest
from albums_support import copy_library, group_library_file, tree_digest
from data_paths import GROUP

from facereid_engine.cli import main
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.progress import run
from facereid_engine.library import Library

pytestmark = pytest.mark.slow


def _albums(capsys, *args) -> dict:
    code = main(["albums", *map(str, args), "--json", "--no-progress"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _photo_rows(path) -> list:
    with Library(path) as lib:
        return sorted([(f.path, f.box) for p in lib.people() for f in lib.faces(p.id)] +
                      [(f.path, f.box) for f in lib.unsorted()])


def test_regroup_a_dlib_library_with_sface_and_back(tmp_path, capsys):
    group_library_file()
    library = copy_library(tmp_path / "lib.sqlite")
    before_photos = tree_digest(GROUP)
    with Library(library) as lib:
        assert lib.encoder == "dlib"
        biggest = max(lib.people(), key=lambda p: p.face_count)
        lib.rename(biggest.id, "Named By Me")
        named_faces = {f.id for f in lib.faces(biggest.id)}
    faces_before = _photo_rows(library)

    data = _albums(capsys, GROUP, "--library", library, "--encoder", "sface")
    with Library(library) as lib:
        assert lib.encoder == "sface"
        ids = [f.id for p in lib.people() for f in lib.faces(p.id)] + [f.id for f in lib.unsorted()]
        assert lib.embeddings(ids, "sface").shape == (len(ids), 128)
        named = next(p for p in lib.people() if p.name == "Named By Me")
        assert named_faces <= {f.id for f in lib.faces(named.id)}  # a confirmed name is a fact
    assert _photo_rows(library) == faces_before  # no new detection: the same faces, the same boxes
    assert any(p["name"] == "Named By Me" for p in data["people"])

    _albums(capsys, GROUP, "--library", library, "--encoder", "dlib")
    with Library(library) as lib:
        assert lib.encoder == "dlib"
        assert any(p.name == "Named By Me" for p in lib.people())
    # a scan without --encoder keeps the library's encoder
    _albums(capsys, GROUP, "--library", library)
    with Library(library) as lib:
        assert lib.encoder == "dlib"
        # and so does the library API without settings, although the default encoder is another
        assert DEFAULT_ENCODER != "dlib"
        result = run(lib.scan_work(GROUP))
        assert lib.encoder == "dlib" and result.unchanged == 24 and result.new == result.changed == 0
    assert tree_digest(GROUP) == before_photos
