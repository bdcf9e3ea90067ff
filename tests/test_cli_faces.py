"""``facereid verify / detect / embed`` run as a user runs them: a real process, real files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from PIL import Image

from data_paths import GROUP, ROOT, lfw_image
from facereid_engine.cli import main
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.encoders import card
from facereid_engine.thresholds import default_threshold

BUSH_1, BUSH_2 = lfw_image("George_W_Bush", 1), lfw_image("George_W_Bush", 2)
POWELL = lfw_image("Colin_Powell", 1)


def facereid_process(*args: str) -> subprocess.CompletedProcess:
    """The CLI in its own process, exactly as a user runs it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "facereid_engine", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture
def facereid(capsys):
    """The CLI in this process (models stay loaded between calls): returns code, stdout, stderr."""
    def call(*args: str) -> subprocess.CompletedProcess:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return call


def test_verify_exit_codes_and_json(facereid):
    same = facereid_process("verify", BUSH_1, BUSH_2, "--json")
    assert same.returncode == 0, same.stderr
    payload = json.loads(same.stdout)
    assert payload["verified"] is True and payload["encoder"] == DEFAULT_ENCODER
    assert payload["distance"] < payload["threshold"] == default_threshold(DEFAULT_ENCODER, "euclidean")[0]
    assert len(payload["faces1"]) == 1 and len(payload["faces1"][0]["landmarks"]) == 5
    diff = facereid_process("verify", BUSH_1, POWELL, "--distance", "cosine")
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.startswith("different people: cosine distance")


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make, cause", [
    (lambda d: d / "missing.jpg", "not found"),
    (lambda d: d, "folder"),
    (lambda d: _written(d / "empty.jpg", b""), "empty"),
    (lambda d: _written(d / "notes.jpg", b"hello"), "not an image"),
])
def test_verify_bad_input_is_one_line_and_exit_2(facereid, tmp_path, make, cause):
    bad = make(tmp_path)
    result = facereid("verify", bad, BUSH_1)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(bad) in lines[0] and cause in lines[0].lower()


def test_verify_no_face_and_unknown_names(facereid, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (160, 160), "white").save(blank)
    result = facereid("verify", blank, BUSH_1)
    assert result.returncode == 2 and "no face" in result.stderr and str(blank) in result.stderr
    result = facereid("verify", BUSH_1, BUSH_2, "--distance", "manhattan")
    assert result.returncode == 2 and "manhattan" in result.stderr and "Traceback" not in result.stderr


def test_pixel_bomb_is_refused_quickly(facereid, tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (40000, 40000)).save(bomb)  # 1.6 gigapixels, a few hundred KB on disk
    start = time.perf_counter()
    result = facereid("detect", bomb)
    elapsed = time.perf_counter() - start
    assert result.returncode == 2 and str(bomb) in result.stderr
    assert elapsed < 1.0


def test_detect_and_embed_json_lines_go_on_after_a_failure(facereid, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(BUSH_1.read_bytes()[:2000])
    group = GROUP / "photos" / "face_recognition_two_people.jpg"
    result = facereid("embed", BUSH_1, broken, group, "--json")
    assert result.returncode == 2
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(BUSH_1), str(broken), str(group)]
    assert len(rows[0]["faces"]) == 1 and len(rows[0]["faces"][0]["embedding"]) == card(DEFAULT_ENCODER).dim
    assert "error" in rows[1] and "truncated" in rows[1]["error"]
    assert len(rows[2]["faces"]) == 2
    detected = facereid("detect", group, "--json")
    assert detected.returncode == 0
    faces = json.loads(detected.stdout)["faces"]
    assert [f["box"] for f in faces] == [f["box"] for f in rows[2]["faces"]]
    assert all("embedding" not in f for f in faces)


def test_a_reader_that_goes_away_is_not_a_traceback():
    """``facereid ... | head -c 10``: the pipe closes early; no traceback, the exit status of SIGPIPE."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "facereid_engine", "embed", "--json", *[BUSH_1] * 40],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in err
