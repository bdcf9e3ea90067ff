"""GUI test fixtures: a real main window (offscreen) with its own settings file."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture
def settings_path(tmp_path) -> Path:
    return tmp_path / "facereid-gui.ini"


@pytest.fixture
def make_window(qtbot, settings_path, tmp_path, monkeypatch):
    """``make_window()`` opens a main window on this test's own FaceReID home (settings, library,
    caches); windows made by one test share it, as a restarted app would. All are closed after."""
    from facereid_gui.main_window import MainWindow

    monkeypatch.setenv("FACEREID_HOME", str(tmp_path / "home"))

    windows = []

    def make():
        window = MainWindow(QSettings(str(settings_path), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.worker._thread.isRunning()


@pytest.fixture
def no_imagenet_weights(tmp_path, monkeypatch):
    """The ImageNet encoders' weights are absent here, whatever this machine has cached: torch's
    cache and ``$FACEREID_WEIGHTS_DIR`` point at empty folders of this test."""
    for variable in ("TORCH_HOME", "FACEREID_WEIGHTS_DIR"):
        folder = tmp_path / f"empty-{variable.lower()}"
        folder.mkdir()
        monkeypatch.setenv(variable, str(folder))
