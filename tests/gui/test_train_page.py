"""Train page, driven through its real widgets on real LFW images of ten people (offscreen)."""
from __future__ import annotations

import pytest

import facereid_gui.main_window as main_window
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.paths import models_dir
from training_helpers import make_people_folder

TRAINED = f"{DEFAULT_ENCODER}+guipair"  # trained on the default base
from gui.helpers import wait_idle

TRAIN_PAGE = "train_page:TrainPage"


@pytest.fixture
def train(make_window, qtbot, monkeypatch, tmp_path):
    if TRAIN_PAGE not in main_window.PAGES:  # until the page is listed in facereid_gui/pages/__init__.py
        monkeypatch.setattr(main_window, "PAGES", (*main_window.PAGES, TRAIN_PAGE))
    window = make_window()
    wait_idle(qtbot, window)  # the engine has started: the encoder lists are filled
    page = window.page("Train")
    window.tabs.setCurrentWidget(page)
    people = make_people_folder(tmp_path / "people")
    page.set_source("identities", str(people))
    return window, page


def test_train_watch_the_chart_save_and_find_the_encoder_in_compare(train, qtbot):
    window, page = train
    assert page.base_box.currentText() == DEFAULT_ENCODER and "dlib" in [page.base_box.itemText(i)
                                                                        for i in range(page.base_box.count())]
    # before the first run: a sentence where the chart will be, not empty axes
    assert page.chart.is_empty() and page.chart.canvas is None
    assert "No training yet" in page.chart.empty.text() and page.chart.empty.isVisible()
    page.method_box.setCurrentIndex(page.method_box.findData("pair"))
    page.epochs_box.setValue(30)
    page.train_button.click()
    assert not page.train_button.isEnabled() and page.cancel_button.isEnabled()
    # the chart is redrawn while the worker trains, then shows every epoch
    qtbot.waitUntil(lambda: page.chart.live_draws >= 1, timeout=60_000)
    wait_idle(qtbot, window)
    assert page.result is not None and page.save_button.isEnabled()
    assert page.chart.epochs == page.result.history and len(page.result.history) >= 2
    accuracy_line = page.chart.accuracy_axes.get_lines()[0]
    assert list(accuracy_line.get_xdata()) == list(range(len(page.result.history)))
    assert list(accuracy_line.get_ydata()) == [r["val_accuracy"] for r in page.result.history]
    assert page.chart.reference == pytest.approx(page.result.base_val_accuracy)
    assert not page.chart.is_empty() and page.chart.canvas.isVisible()
    assert "Done: validation accuracy" in page.status.text()

    page.name_edit.setText("guipair")
    page.save_button.click()
    wait_idle(qtbot, window)
    assert f"Saved as <b>{TRAINED}</b>" in page.status.text()
    assert (models_dir() / f"{TRAINED}.json").is_file()
    # the window received the new list and told every page (and the About box)
    assert TRAINED in window.engine.encoders
    compare = window.page("Compare")
    assert TRAINED in compare.encoder_names()
    assert TRAINED in window.page("Charts").encoder_names()
    compare.set_encoder(TRAINED)
    assert compare.encoder == TRAINED
    # a trained model is not offered as a base
    assert TRAINED not in [page.base_box.itemText(i) for i in range(page.base_box.count())]


def test_cancel_saves_nothing_and_errors_show_in_the_page(train, qtbot):
    window, page = train
    before = sorted(p.name for p in models_dir().iterdir())
    page.method_box.setCurrentIndex(page.method_box.findData("concat"))  # the study's recipe: every epoch
    page.epochs_box.setValue(1000)
    page.train_button.click()
    qtbot.waitUntil(lambda: len(page.chart.epochs) >= 2, timeout=60_000)  # live: epochs arrive while it runs
    page.cancel_button.click()
    wait_idle(qtbot, window)
    assert page.status.text() == "Cancelled: nothing was saved."
    assert page.result is None and not page.save_button.isEnabled() and page.train_button.isEnabled()
    assert len(page.chart.epochs) < 1001
    assert sorted(p.name for p in models_dir().iterdir()) == before

    page.set_source("identities", str(page.path_edit.text()) + "-missing")
    page.train_button.click()
    wait_idle(qtbot, window)
    assert page.status.text().startswith("Could not train: ") and "folder of people not found" in page.status.text()
    assert page.train_button.isEnabled()
    assert page.chart.is_empty() and "No training yet" in page.chart.empty.text()  # not "Training…" forever


def test_launching_the_app_never_starts_training(make_window, qtbot, tmp_path):
    """The window starts every page when it opens; the Train page must not take that as 'Train',
    even with the data of last time remembered."""
    people = make_people_folder(tmp_path / "people")
    window = make_window()
    wait_idle(qtbot, window)
    page = window.page("Train")
    assert page.status.text() == ""  # no "choose a pairs file first" at launch
    page.set_source("identities", str(people))
    page.settings.setValue("train/path", str(people))
    page.settings.setValue("train/kind", "identities")
    window.close()
    again = make_window()
    wait_idle(qtbot, again)
    page = again.page("Train")
    assert page.train_button.isEnabled() and not page.cancel_button.isEnabled()
    assert page.result is None and page.chart.epochs == []
