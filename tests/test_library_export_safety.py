"""Export never writes inside a scanned photo folder, never follows a link, lists in its manifests
only what the export folder holds, and reports per file or per person what it could not write."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from albums_support import GROUP, library_of, pipeline, tree_digest

from facereid_engine.library.export import ExportError, export_albums
from facereid_engine.progress import run

OBAMA = {"obama.jpg": "enrollment/obama/obama.jpg", "obama2.jpg": "enrollment/obama/obama2.jpg"}


def _photos(folder: Path, names: dict[str, str]) -> dict[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, relative in names.items():
        (folder / name).write_bytes((GROUP / relative).read_bytes())
        out[folder / name] = relative
    return out


def _named(lib, name: str) -> int:
    """One person holding every face of the library, confirmed, named ``name``."""
    return lib.split([f.id for f in lib.faces()], name=name)


def test_a_person_named_like_the_photo_folder_is_not_exported_into_it(tmp_path):
    pics = tmp_path / "X" / "Pics"
    lib = library_of(tmp_path / "lib.sqlite", _photos(pics, OBAMA), pics)
    with lib:
        person = _named(lib, "Pics")
        before = tree_digest(pics)
        with pytest.raises(ExportError, match=f"{pics}.*photo folder"):
            export_albums(lib, tmp_path / "X")
        assert tree_digest(pics) == before and sorted(os.listdir(tmp_path / "X")) == ["Pics"]
        rescan = run(lib.scan_work(pics, pipeline=pipeline()))
        assert (rescan.new, rescan.missing, rescan.decoded) == (0, 0, 0), rescan.summary()
        assert lib.person(person).confirmed_count == 2 and lib.person(person).name == "Pics"


def test_a_link_named_like_a_person_is_refused_not_followed(tmp_path):
    pics = tmp_path / "photos"
    lib = library_of(tmp_path / "lib.sqlite", _photos(pics, OBAMA), pics)
    with lib:
        _named(lib, "Obama")
        out = tmp_path / "out"
        out.mkdir()
        (out / "Obama").symlink_to(pics, target_is_directory=True)
        before = tree_digest(pics)
        with pytest.raises(ExportError, match=f"{out / 'Obama'}: a symbolic link"):
            export_albums(lib, out)
        elsewhere = tmp_path / "elsewhere"            # a link to a harmless folder is refused all the same
        elsewhere.mkdir()
        (out / "Obama").unlink()
        (out / "Obama").symlink_to(elsewhere, target_is_directory=True)
        with pytest.raises(ExportError, match="symbolic link"):
            export_albums(lib, out)
        assert tree_digest(pics) == before and os.listdir(elsewhere) == []
        (out / "Obama").unlink()
        result = export_albums(lib, out)
        assert result.written == 2 and (out / "Obama" / "obama.jpg").is_symlink()


def test_the_manifest_lists_what_the_folder_holds_and_reports_the_rest(tmp_path):
    pics = tmp_path / "photos"
    lib = library_of(tmp_path / "lib.sqlite", _photos(pics, OBAMA), pics)
    with lib:
        _named(lib, "Obama")
        out = tmp_path / "out"
        (out / "Obama").mkdir(parents=True)
        (out / "Obama" / "obama.jpg").write_text("the user's own file")
        result = export_albums(lib, out)
        assert result.skipped == [str(out / "Obama" / "obama.jpg")] and result.written == 1
        rows = list(csv.DictReader(open(result.manifests[0], encoding="utf-8")))
        assert [r["file"] for r in rows] == [os.path.join("Obama", "obama2.jpg")]
        manifest = json.loads(Path(result.manifests[1]).read_text(encoding="utf-8"))
        assert [f["file"] for p in manifest["people"] for f in p["faces"]] == [os.path.join("Obama", "obama2.jpg")]
        assert manifest["not_written"] == [{"path": str(out / "Obama" / "obama.jpg"),
                                            "why": "the name is taken by another file (left alone)"}]
        again = export_albums(lib, out)                # the link made before is listed again, as held
        rows = list(csv.DictReader(open(again.manifests[0], encoding="utf-8")))
        assert again.already == 1 and [r["file"] for r in rows] == [os.path.join("Obama", "obama2.jpg")]


def test_names_too_long_are_shortened_and_a_blocked_person_is_reported(tmp_path):
    long_name = "o" * 248 + ".jpg"                     # 252 bytes: its sidecar's name would be 256
    pics = tmp_path / "photos"
    files = _photos(pics, {long_name: "enrollment/obama/obama.jpg", "obama2.jpg": "enrollment/obama/obama2.jpg",
                           "biden.jpg": "enrollment/biden/biden.jpg", "biden2.jpg": "enrollment/biden/biden2.jpg"})
    lib = library_of(tmp_path / "lib.sqlite", files, pics)
    with lib:
        obama = lib.split([f.id for f in lib.faces() if "biden" not in f.path], name="Obama")
        lib.split([f.id for f in lib.faces() if "biden" in f.path], name="Biden")
        out = tmp_path / "out"
        out.mkdir()
        (out / "Biden").write_text("a file where Biden's folder would go")
        result = export_albums(lib, out, xmp=True)
        assert result.failed == [(str(out / "Biden"), "Not a directory")]
        assert "could not be written" in result.summary()
        names = sorted(os.listdir(out / "Obama"))
        assert len(names) == 4 and result.written == 2 and result.sidecars == 2
        assert all(len(n.encode()) <= 255 for n in names)
        short = next(n for n in names if n.startswith("ooo") and n.endswith(".jpg"))
        assert os.path.realpath(out / "Obama" / short) == str(pics / long_name)
        assert (out / "Obama" / (short + ".xmp")).is_file()
        manifest = json.loads(Path(result.manifests[1]).read_text(encoding="utf-8"))
        assert [p["id"] for p in manifest["people"]] == [obama]
        assert manifest["not_written"] == [{"path": str(out / "Biden"), "why": "Not a directory"}]


def test_an_unwritable_export_folder_is_a_clear_error(tmp_path):
    pics = tmp_path / "photos"
    lib = library_of(tmp_path / "lib.sqlite", _photos(pics, OBAMA), pics)
    with lib:
        _named(lib, "Obama")
        if os.geteuid() != 0:
            locked = tmp_path / "locked"
            locked.mkdir()
            locked.chmod(0o555)
            targets = [locked, locked / "new"]
        elif os.path.isdir("/sys/kernel") and _cannot_write("/sys"):
            targets = [Path("/sys/kernel"), Path("/sys/facereid-export")]   # root may not write in sysfs
        else:
            pytest.skip("no folder this user cannot write to")
        for target in targets:
            with pytest.raises(ExportError, match=f"{target}: cannot (write in|make or open) the export folder"):
                export_albums(lib, target)


def _cannot_write(folder: str) -> bool:
    try:
        os.mkdir(os.path.join(folder, ".facereid-test"))
    except OSError:
        return True
    os.rmdir(os.path.join(folder, ".facereid-test"))
    return False
