"""Export of real albums: a folder per person, links or copies, manifests, XMP, never overwriting."""
from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET

import pytest
from albums_support import GROUP, copy_library, group_library_file, tree_digest

from facereid_engine.library.export import ExportError, export_albums, safe_name
from facereid_engine.library import Library


@pytest.fixture
def lib(tmp_path):
    group_library_file()
    with Library(copy_library(tmp_path / "lib.sqlite")) as library:
        yield library


@pytest.mark.parametrize("name, expected", [
    ("Barack Obama", "Barack Obama"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("..", "Person 7"),
    ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("  spaced   out. ", "spaced out"),
    ("tab\there\x00", "tab_here_"),
    ("", "Person 7"),
    ("Zoë", "Zoë"),
])
def test_safe_names(name, expected):
    assert safe_name(name, "Person 7") == expected


def test_export_links_manifests_and_sidecars(lib, tmp_path):
    before = tree_digest(GROUP)
    obama = next(f.person_id for f in lib.faces(root=GROUP / "enrollment" / "obama"))
    lib.rename(obama, "Barack/Obama")
    dest = tmp_path / "out"
    result = export_albums(lib, dest, xmp=True)
    people = [p for p in lib.people() if p.face_count]
    assert result.people == len(people) == len(os.listdir(dest)) - 2
    folder = dest / "Barack_Obama"
    names = sorted(os.listdir(folder))
    assert [n for n in names if not n.endswith(".xmp")] == ["face_recognition_obama1.jpg",
                                                            "face_recognition_obama_and_biden.jpg",
                                                            "face_recognition_two_people.jpg", "obama.jpg", "obama2.jpg"]
    link = folder / "obama.jpg"
    assert link.is_symlink() and os.readlink(link) == str(GROUP / "enrollment/obama/obama.jpg")
    unnamed = [p for p in people if p.name is None]
    assert all((dest / f"Person {p.id}").is_dir() for p in unnamed)

    rows = list(csv.DictReader(open(result.manifests[0], encoding="utf-8")))
    assert len(rows) == sum(p.face_count for p in people)
    row = next(r for r in rows if r["photo"].endswith("obama2.jpg"))
    face = next(f for f in lib.faces(obama) if f.path.endswith("obama2.jpg"))
    assert (row["person"], row["file"]) == ("Barack/Obama", os.path.join("Barack_Obama", "obama2.jpg"))
    assert [int(row[k]) for k in ("left", "top", "right", "bottom")] == list(face.box)
    manifest = json.loads(open(result.manifests[1], encoding="utf-8").read())
    entry = next(p for p in manifest["people"] if p["id"] == obama)
    assert entry["name"] == "Barack/Obama" and len(entry["faces"]) == 5

    sidecar = ET.parse(folder / "face_recognition_obama_and_biden.jpg.xmp")
    ns = {"mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
          "stArea": "http://ns.adobe.com/xmp/sType/Area#"}
    regions = sidecar.findall(".//mwg-rs:RegionList//mwg-rs:Name", ns)
    assert "Barack/Obama" in [r.text for r in regions] and len(regions) >= 2
    area = sidecar.find(".//mwg-rs:Area", ns)
    assert 0 < float(area.get(f"{{{ns['stArea']}}}w")) < 1
    assert tree_digest(GROUP) == before            # the photos were only read


def test_export_never_overwrites(lib, tmp_path):
    dest = tmp_path / "out"
    first = export_albums(lib, dest)
    someone = next(p for p in lib.people() if p.face_count)
    folder = dest / f"Person {someone.id}"
    victim = next(iter(sorted(os.listdir(folder))))
    os.unlink(folder / victim)
    (folder / victim).write_text("the user's own file")
    again = export_albums(lib, dest)
    assert (folder / victim).read_text() == "the user's own file"
    assert again.skipped == [str(folder / victim)] and again.written == 0
    assert again.already == first.written - 1
    assert again.manifests[0].endswith("albums-1.csv") and os.path.exists(first.manifests[0])


def test_export_copies_when_asked(lib, tmp_path):
    dest = tmp_path / "copies"
    result = export_albums(lib, dest, mode="copy")
    some = next(p for p in (dest).rglob("*.jpg"))
    assert not some.is_symlink() and result.written > 0
    original = next(GROUP.rglob(some.name))
    assert some.read_bytes() == original.read_bytes()
    with pytest.raises(ExportError, match="choose link or copy"):
        export_albums(lib, dest, mode="move")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        export_albums(lib, tmp_path / "file")
    with pytest.raises(ExportError, match="never writes to"):
        export_albums(lib, GROUP / "photos" / "albums")
    assert not (GROUP / "photos" / "albums").exists()
