"""The main window: pages from the registry, status bar, menus and shortcuts, About."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence

from facereid_engine.device import best_device, device_name
from facereid_gui.dialogs.about import AboutDialog, escape
from facereid_gui.jobs.startup import available_cores, engine_threads
from facereid_gui.main_window import page_class
from facereid_gui.pages import PAGES


def test_pages_menus_status_and_about(make_window, qtbot):
    window = make_window()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles[:3] == ["Compare", "Albums", "Charts"]  # later pages (Train) follow
    assert [type(p) for p in window.pages] == [page_class(spec) for spec in PAGES]
    assert titles == [page_class(spec).title for spec in PAGES]

    # the window is up before the engine: the device and the encoders arrive from the worker
    qtbot.waitUntil(lambda: window.engine is not None, timeout=60_000)
    threads, why = engine_threads(available_cores())
    # read where the engine runs: torch's OpenMP thread count is per thread, so the main thread's own
    # count depends on which tests ran torch there before this one
    assert window.engine.threads == threads and window.engine.threads_note == why
    if best_device().type == "cpu":  # how many threads, and why, in the status bar
        assert window.device_label.text() == f"Device: CPU, {why}"
    else:
        assert window.device_label.text() == f"Device: {device_name()}"
    assert why in window.device_label.toolTip()
    compare = window.page("Compare")
    assert compare.encoder_names() == window.engine.encoders

    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "View", "Help"]
    shortcuts = {a.text().replace("&", ""): a.shortcut() for m in menus.values() for a in m.actions()}
    assert shortcuts["Quit"] == QKeySequence(QKeySequence.StandardKey.Quit)
    assert shortcuts["Albums"] == QKeySequence("Ctrl+2")
    window.tabs.setCurrentIndex(1)
    assert window.open_action.text() == "&Add a Photo Folder…"
    assert window.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)

    about = AboutDialog(window.engine, window)
    text = about.text.text()
    for words in ("mmod_human_face_detector", "shape_predictor_5_face_landmarks", "public domain",
                  "BSD-3-Clause", window.engine.device):
        assert words.lower() in text.lower()
    for card in window.engine.cards:  # every encoder, from its card
        assert f"<b>{escape(card.name)}</b>" in text
        for words in (card.description, card.source, card.licence):
            assert escape(words) in text


def test_engine_threads_leave_one_core_for_the_window():
    assert engine_threads(8, {}) == (7, "7 threads of 8 cores, one core left for the window")
    assert engine_threads(2, {}) == (1, "1 thread of 2 cores, one core left for the window")
    assert engine_threads(1, {}) == (1, "1 thread on the only core")
    assert engine_threads(8, {"OMP_NUM_THREADS": "3"}) == (3, "3 threads, as OMP_NUM_THREADS=3 asks")
    assert engine_threads(8, {"OMP_NUM_THREADS": "lots"})[0] == 7  # not a number: the default
