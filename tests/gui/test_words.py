"""The words the pages build from numbers and paths: a scan's pace, paths under the home folder."""
from __future__ import annotations

import os

from facereid_gui.pages.albums_photos import report_words
from facereid_gui.widgets.path_row import shown_path, typed_path
from facereid_gui.widgets.scan_options import pace_words


def test_pace_of_a_scan():
    assert pace_words(0, 100, 0.0) == ""
    assert pace_words(10, 100, 5.0) == "2.0 photos/s, 45 s left"
    assert pace_words(10, 1000, 20.0) == "2.0 s per photo, about 33 min left"
    assert pace_words(1, 10_000, 2.0) == "2.0 s per photo, about 5.6 h left"
    assert pace_words(100, 100, 50.0) == "2.0 photos/s"


def test_paths_under_home_shown_with_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    inside = str(tmp_path / "me" / "Pictures" / "pairs.txt")
    assert shown_path(inside) == os.path.join("~", "Pictures", "pairs.txt")
    assert typed_path(shown_path(inside)) == inside
    assert shown_path(str(tmp_path / "meant" / "x")) == str(tmp_path / "meant" / "x")  # not under home
    assert shown_path("") == "" and typed_path("  ") == ""


def test_scan_report_names_its_folder():
    from facereid_engine.library.scanning import ScanResult

    report = ScanResult(folder="/somewhere/Family photos", photos=3, new=3, faces=4, seconds=1.0)
    assert report_words(report).startswith("3 photos in Family photos: 3 new")
    assert "/somewhere" not in report_words(report)
