"""A damaged facereid-gui.ini never stops the app: bad values fall back to defaults, with a note in the
status bar; the app itself starts (as a process) on every kind of damage."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QByteArray, QSettings

from data_paths import ROOT
from facereid_gui.main_window import CheckedSettings

DAMAGED = {
    "wrong types": "[window]\npage=abc\ngeometry=garbage\n[charts]\nfolds=1e99\nencoders=a, b\n"
                   "[train]\nseed=many\npath=a, b\n[albums]\nlibrary=1, 2\nfolders=x\n",
    "out of range": "[window]\npage=99\n[charts]\nfolds=99999999999\n[train]\nseed=-99999999999\n",
    "unknown variant": "[window]\ngeometry=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x10Garbage)\n"
                       "[charts]\npairs=@ByteArray(\\xff\\xfe)\n",
    "binary junk": bytes(range(256)) * 8,
    "empty": "",
}


def _write(path, content) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize("kind", DAMAGED)
def test_damaged_settings_open_the_window_with_defaults(make_window, settings_path, qtbot, kind):
    _write(settings_path, DAMAGED[kind])
    window = make_window()
    assert 0 <= window.tabs.currentIndex() < window.tabs.count()
    assert window.width() > 0 and window.height() > 0
    charts, train = window.page("Charts"), window.page("Train")
    assert 1 <= charts.folds_box.value() <= 10
    assert isinstance(window.page("Albums").folders(), list)
    if kind in ("wrong types", "out of range"):
        note = window.statusBar().currentMessage()
        assert "replaced by their defaults" in note and "window/page" in note, note
        assert train.seed_box.value() == 0
    if kind == "wrong types":
        assert charts.folds_box.value() == 10 and "charts/folds" in window.settings.damaged
        assert "window/geometry" in window.settings.damaged and "albums/library" in window.settings.damaged
    if kind == "empty":
        assert window.settings.damaged == [] and window.statusBar().currentMessage() == ""
    # the window writes good values back, and a second start reads them without a note
    window.close()
    again = make_window()
    assert again.settings.damaged == [], again.settings.damaged


def test_checked_values_by_the_default_type(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text("[a]\nint=12\nbadint=1.5\nflag=true\nbadflag=maybe\nnum=0.25\nnan=nan\nname=x\n"
                    "names=x, y\none=x\n")
    s = CheckedSettings(str(path), QSettings.Format.IniFormat)
    seen = []
    s.on_damaged = seen.append
    assert s.value("a/int", 0) == 12 and s.value("a/badint", 3) == 3
    assert s.value("a/flag", False) is True and s.value("a/badflag", False) is False
    assert s.value("a/num", 1.0) == 0.25 and s.value("a/nan", 1.0) == 1.0
    assert s.value("a/names", []) == ["x", "y"] and s.value("a/one", []) == ["x"]
    assert s.value("a/name", "") == "x" and s.value("a/names", "d") == "d"
    assert not s.contains("a/names") and s.value("a/names", []) == []  # a damaged entry is removed
    assert s.value("a/missing", 7) == 7 and s.value("a/missing") is None
    s.setValue("window/geometry", QByteArray(b"\x01\x02"))
    assert s.value("window/geometry") == QByteArray(b"\x01\x02")
    assert seen == s.damaged == ["a/badint", "a/badflag", "a/nan", "a/names"]


@pytest.mark.parametrize("kind", ["wrong types", "binary junk"])
def test_the_app_starts_on_damaged_settings(tmp_path, kind):
    home = tmp_path / "home"
    home.mkdir()
    _write(home / "facereid-gui.ini", DAMAGED[kind])
    env = dict(os.environ, FACEREID_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "facereid_gui", "--startup-time"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "window shown" in done.stdout and "Traceback" not in done.stderr


def test_the_app_says_why_it_cannot_start_when_its_home_is_a_file(tmp_path):
    home = tmp_path / "home"
    home.write_text("x")
    env = dict(os.environ, FACEREID_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "facereid_gui", "--startup-time"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"facereid-gui: error: FACEREID_HOME={home} is not a folder (a file of that " \
                                  "name is in the way)"
