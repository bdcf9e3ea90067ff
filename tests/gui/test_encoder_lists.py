"""Encoder lists come from the registry's cards: a family registered from this file alone shows up in
Compare, Charts, Train and the About box, decides a comparison, and an unusable one is said once."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.distances import distance as engine_distance, is_same_person
from facereid_engine.encoders import Encoder, EncoderCard, EncoderFamily, get_encoder, register_family
from facereid_engine.encoders import unregister_family
from facereid_engine.errors import ModelUnavailableError
from facereid_gui.dialogs.about import AboutDialog, escape
from facereid_gui.jobs.startup import engine_info
from gui.helpers import drop_paths, labels_saying, wait_idle
from gui.test_compare_page import OTHER, SAME

TOY_DIM = 64
TOY_THRESHOLDS = {"euclidean": (0.42, False), "euclidean_l2": (0.3, False), "cosine": (0.05, False)}
MISSING = "its weights file toy-weights.bin is not in /nowhere (a test's encoder)"


def projection(seed: int = 7) -> np.ndarray:
    """A seeded random (128, 64) matrix with orthonormal columns."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((128, 128)))
    return q[:, :TOY_DIM].astype(np.float32)


class ToyEncoder(Encoder):
    """dlib's 128-D vector through a fixed orthogonal projection to 64-D."""

    name, dim, chip_size, chip_padding = "toyproj", TOY_DIM, 150, 0.25
    description = "dlib's vector through a seeded random orthogonal projection to 64-D (a test's toy)"
    licence = "Toy licence: tests only"

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.projection = projection()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        return get_encoder("dlib", self.device).embed(chips) @ self.projection


class ToyFamily(EncoderFamily):
    name = "toy"

    def names(self) -> list[str]:
        return ["toyproj", "toyoff"]

    def card(self, name: str) -> EncoderCard:
        return EncoderCard(name=name, family=self.name, dim=TOY_DIM, chip_size=150, alignment="dlib's chips",
                           description=ToyEncoder.description, licence=ToyEncoder.licence,
                           source=f"built by {__name__} (no file)", thresholds=TOY_THRESHOLDS,
                           unavailable=MISSING if name == "toyoff" else "")

    def load(self, name: str, device: torch.device) -> Encoder:
        if name == "toyoff":
            raise ModelUnavailableError(MISSING)
        return ToyEncoder(device)


@pytest.fixture
def toy():
    family = register_family(ToyFamily())
    try:
        yield family
    finally:
        unregister_family("toy")


@pytest.fixture
def window(toy, make_window, qtbot):
    window = make_window()
    wait_idle(qtbot, window)  # the engine has started: the lists are filled from the cards
    return window


def combo_names(box) -> list[str]:
    return [box.itemData(i) for i in range(box.count())]


def test_a_registered_family_is_listed_everywhere_and_decides_in_compare(window, qtbot):
    compare, charts, train = (window.page(t) for t in ("Compare", "Charts", "Train"))
    assert "toyproj" in compare.encoder_names() and "toyproj" in charts.encoder_names()
    assert "toyproj" in combo_names(train.base_box)
    text = AboutDialog(window.engine, window).text.text()
    assert "<b>toyproj</b>" in text and "64-D, toy" in text
    for words in (ToyEncoder.description, ToyEncoder.licence, f"built by {__name__} (no file)"):
        assert escape(words) in text

    window.tabs.setCurrentWidget(compare)
    compare.set_encoder("toyproj")
    drop_paths(compare.panes[0], list(SAME))
    wait_idle(qtbot, window)
    compare.set_encoder("dlib")  # the same photos with dlib, for the expected toy vectors
    wait_idle(qtbot, window)
    compare.set_encoder("toyproj")
    wait_idle(qtbot, window)
    assert compare.threshold.value() == TOY_THRESHOLDS["euclidean"][0]  # the card's threshold
    a, b = (p.embeddings["dlib"][0] @ projection() for p in compare.photos)
    expected = engine_distance(a, b, "euclidean")
    assert compare.result.distance == pytest.approx(expected, abs=1e-5)
    assert [p.embeddings["toyproj"].shape for p in compare.photos] == [(1, TOY_DIM)] * 2
    assert compare.result.same is is_same_person(expected, TOY_THRESHOLDS["euclidean"][0]) is True
    assert compare.result.verdict.text() == "Same person"
    assert compare.result.encoder == "toyproj" and "<b>toyproj</b>" in compare.result.decided_by.text()

    drop_paths(compare.panes[1], [OTHER])  # another person: farther than the card's threshold
    wait_idle(qtbot, window)
    assert compare.result.verdict.text() == "Different people" and compare.result.encoder == "toyproj"
    assert compare.result.distance > TOY_THRESHOLDS["euclidean"][0]


def test_an_unavailable_card_is_listed_once_with_its_reason(window, qtbot):
    compare, charts, train = (window.page(t) for t in ("Compare", "Charts", "Train"))
    assert window.engine.unavailable()["toyoff"] == MISSING

    index = compare.encoder_box.findData("toyoff")
    assert compare.encoder_names().count("toyoff") == 1
    assert compare.encoder_box.itemText(index) == "toyoff (unavailable)"
    assert compare.encoder_box.itemData(index, Qt.ItemDataRole.ToolTipRole) == MISSING

    item = charts.encoder_list.item(charts.encoder_names().index("toyoff"))
    assert item.text() == "toyoff (unavailable)" and item.toolTip() == MISSING
    assert not item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    charts.set_checked_encoders(["toyoff", "dlib"])
    assert charts.checked_encoders() == ["dlib"]

    index = train.base_box.findData("toyoff")
    assert train.base_box.itemText(index) == "toyoff (unavailable)"
    assert not train.base_box.model().item(index).isEnabled()  # cannot be trained on

    text = AboutDialog(window.engine, window).text.text()
    assert text.count(escape(MISSING)) == 1

    # chosen in Compare with two photos shown: the reason once in the page, nothing loaded
    window.tabs.setCurrentWidget(compare)
    drop_paths(compare.panes[0], list(SAME))
    wait_idle(qtbot, window)
    compare.set_encoder("toyoff")
    wait_idle(qtbot, window)
    assert len(labels_saying(compare, MISSING)) == 1
    assert compare.result.verdict.text() == "" and all(not pane.error_text for pane in compare.panes)
    assert all("toyoff" not in p.embeddings for p in compare.photos)


def test_the_window_tells_every_page_when_the_encoders_change(make_window, qtbot):
    """A page that changes the encoders on offer (as Train does when it saves a model) emits
    engine_changed; the window keeps the new list and every page shows it."""
    window = make_window()
    wait_idle(qtbot, window)
    compare, charts, train = (window.page(t) for t in ("Compare", "Charts", "Train"))
    assert "toyproj" not in compare.encoder_names()
    register_family(ToyFamily())
    try:
        train.engine_changed.emit(engine_info())
        assert "toyproj" in window.engine.encoders
        assert "toyproj" in compare.encoder_names() and "toyproj" in charts.encoder_names()
        assert "toyproj" in combo_names(train.base_box)
        assert compare.encoder == DEFAULT_ENCODER  # the choice is kept
    finally:
        unregister_family("toy")
