"""Charts page: evaluate a small real LFW pair set in the worker and find the charts drawn."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from data_paths import LFW, LFW_IMAGES
from facereid_engine.evaluation.metrics import accuracy_at
from gui.helpers import wait_idle

# The ImageNet weights must be absent for the "unavailable encoder" checks, whatever this machine caches.
pytestmark = pytest.mark.usefixtures("no_imagenet_weights")


def small_pairs_file(tmp_path):
    """20 LFW pairs (2 folds of 5 matched + 5 mismatched) taken from View 1's test file."""
    rows = (LFW / "pairsDevTest.txt").read_text().splitlines()
    matched, mismatched = rows[1:11], rows[501:511]
    lines = ["2 5", *matched[:5], *mismatched[:5], *matched[5:], *mismatched[5:]]
    path = tmp_path / "pairs-small.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_small_pair_set_and_reopen(make_window, qtbot, tmp_path):
    window = make_window()
    page = window.page("Charts")
    window.tabs.setCurrentWidget(page)
    wait_idle(qtbot, window)
    assert page.table.rowCount() == 0  # nothing cached yet in this test's home

    pairs = small_pairs_file(tmp_path)
    page.set_checked_encoders(["dlib"])
    page.evaluate_pairs(str(pairs), str(LFW_IMAGES))
    assert page.is_running() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not page.is_running(), timeout=120_000)
    assert page.status.text().startswith("Evaluated"), page.status.text()

    # three distances, each a row and a curve; the chart has its three axes drawn
    assert page.table.rowCount() == 3
    assert sorted(page.table.item(r, 1).text() for r in range(3)) == ["cosine", "euclidean", "euclidean_l2"]
    axes = page.chart.axes()
    assert set(axes) == {"accuracy", "roc", "histograms"}
    assert len(axes["accuracy"].get_legend().get_texts()) == 3
    assert len(axes["roc"].lines) >= 3
    assert len(axes["histograms"].patches) > 0
    result = page.selected_result()
    assert result.distances.shape == (20,)
    assert page.threshold.value() == result.threshold  # exactly: the spin box only rounds what it shows

    # moving the threshold moves the line and gives the accuracy there, live
    lo, hi = page.threshold.range()
    for fraction in (0.2, 0.8):
        page.threshold.set_value(lo + (hi - lo) * fraction)
        t = page.threshold.value()
        qtbot.waitUntil(lambda: page.chart.threshold_line_x() == pytest.approx(t), timeout=2000)
        expected = accuracy_at(result.distances, result.same, t)
        assert page.accuracy_at_threshold() == pytest.approx(expected)
        assert f"{expected:.2%}" in page.accuracy_label.text()

    # an encoder without weights here: listed once, marked, its reason as the tooltip; it cannot be ticked
    reason = window.engine.unavailable()["resnet"]
    item = page.encoder_list.item(page.encoder_names().index("resnet"))
    assert item.text() == "resnet (unavailable)" and item.toolTip() == reason
    assert not item.flags() & Qt.ItemFlag.ItemIsEnabled and not item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert page.encoder_names().count("resnet") == 1
    page.set_checked_encoders(["dlib", "resnet"])
    assert page.checked_encoders() == ["dlib"]

    # a folder of people (one sub-folder each), in two person-disjoint folds
    people = tmp_path / "people"
    for name in ("Abel_Pacheco", "Akhmed_Zakayev", "Abdullah_Gul", "Colin_Powell", "Mikhail_Gorbachev", "Amelie_Mauresmo"):
        (people / name).mkdir(parents=True)
        for n in (1, 2):
            shutil.copy(LFW_IMAGES / name / f"{name}_{n:04d}.jpg", people / name)
    page.set_checked_encoders(["dlib"])
    page.folds_box.setValue(2)
    page.evaluate_people(str(people))
    qtbot.waitUntil(lambda: not page.is_running(), timeout=120_000)
    assert page.status.text().startswith("Evaluated"), page.status.text()
    assert page.evaluation.pairs.kind == "identities" and page.evaluation.pairs.n_folds == 2
    assert page.selected_result().distances.shape == (page.evaluation.pairs.n_pairs,)

    # reopening shows the last evaluation without computing it again
    window.close()
    again = make_window()
    page2 = again.page("Charts")
    qtbot.waitUntil(lambda: page2.table.rowCount() == 3, timeout=20_000)
    assert "previous session" in page2.status.text() and "people in" in page2.status.text()
    assert page2.evaluation.pairs.n_pairs == page.evaluation.pairs.n_pairs
    assert set(page2.chart.axes()) == {"accuracy", "roc", "histograms"}
    assert not page2.is_running()


def test_overlay_dlib_sface_and_fused(make_window, qtbot, tmp_path):
    """The face encoders side by side on one pair set: a row and a curve per encoder and distance."""
    window = make_window()
    page = window.page("Charts")
    window.tabs.setCurrentWidget(page)
    wait_idle(qtbot, window)
    page.set_checked_encoders(["dlib", "sface", "fused"])
    page.evaluate_pairs(str(small_pairs_file(tmp_path)), str(LFW_IMAGES))
    qtbot.waitUntil(lambda: not page.is_running(), timeout=300_000)
    assert page.status.text().startswith("Evaluated"), page.status.text()
    rows = {(page.table.item(r, 0).text(), page.table.item(r, 1).text()) for r in range(page.table.rowCount())}
    assert rows == {(e, d) for e in ("dlib", "sface", "fused") for d in ("cosine", "euclidean", "euclidean_l2")}
    assert len(page.chart.axes()["accuracy"].get_legend().get_texts()) == 9
    assert len(page.chart.axes()["roc"].lines) >= 9
