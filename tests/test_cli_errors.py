"""Every error path of every command: one line on stderr, exit code 2 (1 stays ``verify``'s "different
people"), never a traceback. Real files, real processes where the environment matters."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from PIL import Image

from data_paths import ROOT, lfw_image
from facereid_engine.cli import error_line, main
from facereid_engine.errors import ImageLoadError

BUSH_1, BUSH_2 = lfw_image("George_W_Bush", 1), lfw_image("George_W_Bush", 2)
POWELL = lfw_image("Colin_Powell", 1)


def facereid_process(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "facereid_engine", *map(str, args)], capture_output=True,
                          text=True, env=environment, timeout=300)


@pytest.fixture
def facereid(capsys):
    def call(*args) -> subprocess.CompletedProcess:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return call


def one_error_line(result, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facereid: error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def strict_json(text: str):
    """Parse as standard JSON: NaN / Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


# -- options validated by argparse: usage error, exit 2 ---------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["--upsample", "-1"], "--upsample: -1: must be from 0 to 4"),
    (["--upsample", "8"], "--upsample: 8: must be from 0 to 4"),
    (["--upsample", "two"], "'two' is not a whole number"),
    (["--max-side", "-5"], "--max-side: -5: must be at least 0"),
    (["--threshold", "nan"], "--threshold: 'nan': must be a finite number"),
    (["--threshold", "inf"], "--threshold: 'inf': must be a finite number"),
    (["--threshold=-inf"], "must be a finite number"),
])
def test_bad_option_values_are_usage_errors(facereid, args, words):
    result = facereid("verify", BUSH_1, BUSH_2, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert words in result.stderr and result.stderr.startswith("usage: facereid verify")


@pytest.mark.parametrize("args", [
    ["eval", "--pairs", "x.txt", "--batch-size", "0"],
    ["eval", "--pairs", "x.txt", "--workers", "-1"],
    ["eval", "--identities", "x", "--folds", "0"],
    ["train", "--identities", "x", "--name", "n", "--weight-decay", "nan"],
    ["train", "--identities", "x", "--name", "n", "--val-fraction", "inf"],
    ["detect", BUSH_1, "--upsample", "5"],
])
def test_other_commands_validate_numbers_in_argparse(facereid, args):
    result = facereid(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "usage: facereid" in result.stderr


def test_upsample_in_range_and_a_threshold_are_used(facereid):
    result = facereid("verify", BUSH_1, POWELL, "--upsample", "1", "--threshold", "5", "--json")
    assert result.returncode == 0, result.stderr  # a huge threshold: "same", exit 0
    payload = strict_json(result.stdout)
    assert payload["verified"] is True and payload["threshold"] == 5.0
    assert facereid("verify", BUSH_1, POWELL, "--threshold", "0").returncode == 1  # different: 1, not an error


# -- JSON output is standard JSON ---------------------------------------------------------------------
def test_json_output_has_no_nan_or_infinity(facereid):
    """A face crop has no detection score (NaN inside): it is written as null."""
    result = facereid("verify", BUSH_1, BUSH_2, "--face-crop", "--json")
    assert result.returncode in (0, 1), result.stderr
    payload = strict_json(result.stdout)
    assert payload["faces1"][0]["score"] is None and payload["faces1"][0]["box"] == [0, 0, 249, 249]


def test_blank_face_crop_is_refused(facereid, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (150, 150), (200, 120, 90)).save(blank)
    one_error_line(facereid("verify", blank, BUSH_1, "--face-crop"), str(blank), "blank")
    one_error_line(facereid("verify", BUSH_1, blank, "--face-crop", "--json"), "blank")


# -- FACEREID_HOME ------------------------------------------------------------------------------------
def test_facereid_home_that_is_a_file_is_named_not_the_model(tmp_path):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    result = facereid_process("verify", BUSH_1, BUSH_2, env={"FACEREID_HOME": str(home)})
    line = one_error_line(result, f"FACEREID_HOME={home} is not a folder")
    assert "model" not in line and "landmark" not in line


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "file" / "below",      # a file where a folder should be
    lambda tmp: "/proc/facereid-home",       # a place no one can create a folder in, root included
])
def test_facereid_home_that_cannot_be_created(tmp_path, make):
    (tmp_path / "file").write_text("x")
    home = make(tmp_path)
    for args in (["verify", BUSH_1, BUSH_2], ["albums", "--list"]):
        result = facereid_process(*args, env={"FACEREID_HOME": str(home)})
        one_error_line(result, f"FACEREID_HOME={home} cannot be created")


def test_a_file_in_the_way_of_the_cache_folder(tmp_path):
    (tmp_path / "cache").write_text("x")
    result = facereid_process("verify", BUSH_1, BUSH_2, env={"FACEREID_HOME": str(tmp_path)})
    one_error_line(result, f"the cache folder {tmp_path / 'cache'} is not a folder")


# -- per-file errors: reported for that file, the others still processed ------------------------------------
def test_memory_error_on_one_photo_does_not_drop_the_others(facereid, tmp_path):
    """1x170,000,000 pixels: decoded within the budget, but Pillow cannot scale it down for the detector
    (MemoryError). detect reports that file and goes on."""
    tall = tmp_path / "tall.png"
    Image.new("L", (1, 170_000_000), 128).save(tall)
    result = facereid("detect", tall, BUSH_1, "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    rows = [strict_json(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(tall), str(BUSH_1)]
    assert rows[0]["error"] == f"not enough memory for {tall}" and len(rows[1]["faces"]) == 1
    assert result.stderr.strip() == f"facereid: error: not enough memory for {tall}"


def test_folders_report_dangling_links_and_unreadable_folders(facereid, tmp_path):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "sub" / "bush.jpg").write_bytes(BUSH_1.read_bytes())
    (photos / "notes.txt").write_text("not a photo: not looked at")
    (photos / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (photos / "loop").symlink_to(photos)  # a link back into the folder: its photos are not read twice
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "powell.jpg").write_bytes(POWELL.read_bytes())
    (photos / "elsewhere").symlink_to(tmp_path / "elsewhere")  # followed, as a scan follows it
    result = facereid("detect", photos, "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    rows = {r["path"]: r for r in map(strict_json, result.stdout.splitlines())}
    assert set(rows) == {str(photos / "gone.jpg"), str(photos / "sub" / "bush.jpg"),
                         str(photos / "elsewhere" / "powell.jpg")}
    assert "dangling link" in rows[str(photos / "gone.jpg")]["error"]
    assert len(rows[str(photos / "sub" / "bush.jpg")]["faces"]) == 1
    assert len(rows[str(photos / "elsewhere" / "powell.jpg")]["faces"]) == 1
    assert len(result.stderr.strip().splitlines()) == 1  # one line for the file that failed


def _listable(folder) -> bool:
    try:
        os.listdir(folder)
        return True
    except OSError:
        return False


def test_unreadable_folder_is_reported(facereid, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        if _listable(locked):  # root reads anything: use a folder no one may list
            locked = "/proc/1/map_files"
            if not os.path.isdir(locked) or _listable(locked):
                pytest.skip("no unreadable folder available here")
        result = facereid("embed", locked, BUSH_1)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result.returncode == 2 and f"{BUSH_1}: 1 face(s)" in result.stdout
    one_error_line(result, str(locked), "cannot read the folder")


# -- the mapping itself -------------------------------------------------------------------------------
def test_every_exception_becomes_one_line():
    assert error_line(ImageLoadError("/p/a.jpg", "file not found")) == "/p/a.jpg: file not found"
    err = FileNotFoundError(2, "No such file or directory", "/p/b.jpg")
    assert error_line(err) == "/p/b.jpg: No such file or directory"
    assert error_line(PermissionError(13, "Permission denied")) == "Permission denied"
    assert error_line(MemoryError()) == "not enough memory for this command"
    assert error_line(MemoryError(), subject="x.png") == "not enough memory for x.png"
    assert error_line(sqlite3.DatabaseError("file is not a database")) == \
        "library database error: file is not a database"
    line = error_line(KeyError("two\nlines"))
    assert line.startswith("internal error: KeyError: ") and "\n" not in line and "FACEREID_DEBUG=1" in line


def test_debug_shows_the_traceback(tmp_path):
    home = tmp_path / "file"
    home.write_text("x")
    result = facereid_process("albums", "--list", env={"FACEREID_HOME": str(home), "FACEREID_DEBUG": "1"})
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("facereid: error: FACEREID_HOME=")


def test_help_and_usage_return_codes_in_process(facereid):
    assert facereid("--help").returncode == 0
    assert facereid("nosuchcommand").returncode == 2
    assert facereid().returncode == 2


# -- trained model descriptions are data: a damaged one is a clear ModelFileError -------------------------
GOOD_INFO = {"format": 1, "name": "dlib+m", "base": "dlib", "method": "pair",
             "head": {"method": "pair", "dim": 128, "hidden": 64, "dropout": 0.1},
             "base_chip": {"size": 150, "padding": 0.25}, "thresholds": {}}


@pytest.mark.parametrize("change, words", [
    ({"method": "nosuch"}, "unknown method 'nosuch'"),
    ({"head": {**GOOD_INFO["head"], "layers": 3}}, "unknown parameter(s) 'layers' for a 'pair' head"),
    ({"head": {**GOOD_INFO["head"], "hidden": "many"}}, "'hidden' must be a whole number"),
    ({"head": {**GOOD_INFO["head"], "dim": 10**9}}, "'dim' must lie in 1..1000000"),
    ({"head": {"method": "metric", "dim": 128}}, "the head is a 'metric' head, the model a 'pair' model"),
    ({"head": [128]}, "the head is list"),
    ({"base_chip": {"size": -1}}, "base_chip.size must be a number"),
    ({"thresholds": {"euclidean": float("nan")}}, "the euclidean threshold must be a number"),
    ({"thresholds": {"manhattan": 0.5}}, "unknown distance 'manhattan'"),
])
def test_damaged_model_description_is_one_line(facereid, tmp_path, monkeypatch, change, words):
    import torch

    from facereid_engine.paths import models_dir
    from facereid_engine.training.heads import build_head

    monkeypatch.setenv("FACEREID_HOME", str(tmp_path / "home"))
    folder = models_dir()
    torch.save(build_head(GOOD_INFO["head"]).state_dict(), folder / "dlib+m.pt")
    (folder / "dlib+m.json").write_text(json.dumps({**GOOD_INFO, **change}))
    result = facereid("verify", BUSH_1, BUSH_2, "--encoder", "dlib+m")
    one_error_line(result, str(folder / "dlib+m.json"), "damaged model description", words)


def test_valid_model_description_still_loads(tmp_path, monkeypatch):
    import torch

    from facereid_engine.paths import models_dir
    from facereid_engine.training.heads import build_head
    from facereid_engine.training.store import load_trained_encoder

    monkeypatch.setenv("FACEREID_HOME", str(tmp_path / "home"))
    folder = models_dir()
    torch.save(build_head(GOOD_INFO["head"]).state_dict(), folder / "dlib+m.pt")
    (folder / "dlib+m.json").write_text(json.dumps(GOOD_INFO))
    assert load_trained_encoder("dlib+m").method == "pair"
