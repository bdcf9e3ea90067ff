"""``facereid albums`` end to end on real photos and a real library file."""
from __future__ import annotations

import json

import pytest
from albums_support import GROUP, albums, copy_library, copy_photos, group_library_file, tree_digest

from facereid_engine.cli import main
from facereid_engine.library import Library


@pytest.fixture
def library(tmp_path):
    group_library_file()
    return copy_library(tmp_path / "lib.sqlite")


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["albums", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_albums_of_a_folder(library, capsys, tmp_path):
    before = tree_digest(GROUP)
    code, out, err = run_cli(capsys, GROUP, "--library", library, "--json", "--no-progress",
                             "--export", tmp_path / "out")
    assert code == 0 and tree_digest(GROUP) == before
    data = json.loads(out)
    assert set(data) == {"people", "unsorted", "errors"} and data["errors"] == []
    with Library(library) as lib:
        assert {frozenset((f["photo"], tuple(f["box"])) for f in p["faces"]) for p in data["people"]} == \
            albums(lib, GROUP)
        assert len(data["unsorted"]) == lib.counts()["unsorted"]
    obama = next(p for p in data["people"] if any(f["photo"] == "enrollment/obama/obama.jpg" for f in p["faces"]))
    assert obama["name"] is None and isinstance(obama["id"], int)
    assert all(len(f["box"]) == 4 for f in obama["faces"])
    assert "Exported" in err and (tmp_path / "out" / f"Person {obama['id']}").is_dir()


def test_list_rename_merge_undo(library, capsys):
    code, out, _ = run_cli(capsys, "--library", library, "--list", "--json")
    people = json.loads(out)["people"]
    assert code == 0 and len(people) == 7 and all(p["name"] is None for p in people)
    a, b = people[0]["id"], people[1]["id"]
    assert run_cli(capsys, "--library", library, "--rename", a, "Alice")[0] == 0
    code, out, _ = run_cli(capsys, "--library", library, "--list")
    assert f"{a}  Alice:" in out
    code, out, _ = run_cli(capsys, "--library", library, "--merge", "alice", b, "--json")
    assert code == 0 and json.loads(out) == {"merged_into": a}
    code, out, _ = run_cli(capsys, "--library", library, "--undo")
    assert out.startswith("undone: merge Person") and code == 0
    code, _, err = run_cli(capsys, "--library", library, "--rename", "nobody", "X")
    assert code == 2 and "no person 'nobody'" in err
    code, _, err = run_cli(capsys, "--library", library)
    assert code == 2 and "give PHOTO_DIR" in err


def test_text_summary_of_a_new_folder(tmp_path, capsys):
    folder = copy_photos(tmp_path / "p", ["enrollment/obama/obama.jpg", "enrollment/obama/obama2.jpg"])
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, out, err = run_cli(capsys, folder, "--library", tmp_path / "lib.sqlite", "--no-progress")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"3 photos in {folder}: 2 new, 0 changed, 0 unchanged; 2 faces found; "
                               f"1 could not be read; 1 person, 0 faces unsorted")
    assert any(line.endswith("2 faces in 2 photos") for line in lines)
    assert lines[-1].startswith("error: bad.png: ")
    code, _, err = run_cli(capsys, tmp_path / "missing", "--library", tmp_path / "lib.sqlite")
    assert code == 2 and "folder not found" in err


def test_undo_with_nothing_to_undo_and_names_with_control_characters(library, capsys):
    code, out, _ = run_cli(capsys, "--library", library, "--undo")
    assert code == 0 and out == "Nothing to undo.\n"
    code, out, _ = run_cli(capsys, "--library", library, "--undo", "--json")
    assert json.loads(out) == {"undone": None}
    person = json.loads(run_cli(capsys, "--library", library, "--list", "--json")[1])["people"][0]["id"]
    assert run_cli(capsys, "--library", library, "--rename", person, "Eve\nunsorted: 0 faces\x1b[2J\u202e")[0] == 0
    code, out, _ = run_cli(capsys, "--library", library, "--list")
    line = next(line for line in out.splitlines() if line.strip().startswith(str(person)))
    assert "Eve\\nunsorted: 0 faces\\x1b[2J\\u202e:" in line and "\x1b" not in out
    assert len(out.splitlines()) == 8                  # seven people and the unsorted line
    assert json.loads(run_cli(capsys, "--library", library, "--list", "--json")[1])["people"][0]["name"] == \
        "Eve\nunsorted: 0 faces\x1b[2J\u202e"          # JSON keeps the name as it is


def test_retry_failed_reads_failed_photos_again(tmp_path, capsys):
    folder = copy_photos(tmp_path / "p", ["enrollment/obama/obama.jpg"])
    (folder / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    lib = tmp_path / "lib.sqlite"
    assert run_cli(capsys, folder, "--library", lib, "--no-progress")[0] == 0
    code, out, _ = run_cli(capsys, "--library", lib, "--retry-failed", "--no-progress")
    assert code == 0 and out.startswith(f"2 photos in {folder}: 0 new, 0 changed, 1 unchanged; 0 faces found; "
                                        f"1 could not be read")
    (folder / "bad.jpg").unlink()
    assert run_cli(capsys, folder, "--library", lib, "--no-progress")[0] == 0
    code, out, _ = run_cli(capsys, "--library", lib, "--retry-failed", "--no-progress")
    assert code == 0 and out == "No photo failed: nothing to read again.\n"
