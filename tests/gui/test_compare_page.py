"""Compare page, driven through its real widgets with real LFW and group photos."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.distances import distance as engine_distance
from facereid_engine.thresholds import default_threshold
from facereid_engine.verify import verification
from data_paths import GROUP, lfw_image
from gui.helpers import drop_paths, labels_saying, wait_idle

# The ImageNet weights must be absent for the "unavailable encoder" checks, whatever this machine caches.
pytestmark = pytest.mark.usefixtures("no_imagenet_weights")

SAME = (lfw_image("Abel_Pacheco", 1), lfw_image("Abel_Pacheco", 4))
OTHER = lfw_image("Dean_Barker", 1)
ENCODER = DEFAULT_ENCODER  # what the page starts with


@pytest.fixture
def compare(make_window, qtbot):
    window = make_window()
    page = window.page("Compare")
    window.tabs.setCurrentWidget(page)
    return window, page


def verdict(page) -> str:
    return page.result.verdict.text()


def test_drop_two_photos_then_another_person(compare, qtbot):
    window, page = compare
    event = drop_paths(page.panes[0], [SAME[0]])
    assert event.isAccepted()
    drop_paths(page.panes[1], [SAME[1]])
    wait_idle(qtbot, window)
    assert verdict(page) == "Same person" and page.result.same is True
    expected = verification(*SAME)  # the engine's own answer for the same two files
    assert page.result.distance == pytest.approx(expected.distance, abs=1e-6)
    assert expected.verified
    assert page.result.encoder == ENCODER and f"decided by the encoder <b>{ENCODER}</b>" in page.result.decided_by.text()
    # boxes on the faces, the chosen one highlighted, its aligned chip shown
    assert page.panes[0].view.boxes == [f.box for f in expected.faces1]
    assert page.panes[0].view._chosen == 0
    assert not page.panes[0].chip.pixmap().isNull()

    drop_paths(page.panes[1], [OTHER])
    wait_idle(qtbot, window)
    assert verdict(page) == "Different people" and page.result.same is False
    assert page.result.distance == pytest.approx(verification(SAME[0], OTHER).distance, abs=1e-6)
    assert f"{default_threshold(ENCODER, 'euclidean')[0]:.4f}" in page.result.details.text()


def test_distance_threshold_and_encoder_controls(compare, qtbot):
    window, page = compare
    drop_paths(page.panes[0], [SAME[0], SAME[1]])  # two files on one pane: one on each side
    wait_idle(qtbot, window)
    assert page.panes[1].path == str(SAME[1])
    a, b = (p.embeddings[ENCODER][0] for p in page.photos)
    embedded = [p.embeddings for p in page.photos]

    page.set_distance("cosine")  # the threshold resets to the cosine default; nothing is re-embedded
    value, _ = default_threshold(ENCODER, "cosine")
    assert page.threshold.value() == value  # exactly the calibrated value, not the spin box rounding
    qtbot.waitUntil(lambda: page.result.distance == pytest.approx(engine_distance(a, b, "cosine")), timeout=3000)
    assert [p.embeddings for p in page.photos] == embedded
    assert not window.worker.is_busy()

    page.threshold.set_value(page.result.distance * 0.5)  # stricter than this pair: the verdict flips
    qtbot.waitUntil(lambda: verdict(page) == "Different people", timeout=3000)
    page.threshold.slider.setValue(page.threshold.slider.maximum())
    qtbot.waitUntil(lambda: verdict(page) == "Same person", timeout=3000)

    page.set_distance("euclidean_l2")
    assert page.threshold.value() == default_threshold(ENCODER, "euclidean_l2")[0]
    qtbot.waitUntil(lambda: page.result.distance == pytest.approx(engine_distance(a, b, "euclidean_l2")),
                    timeout=3000)

    # An ImageNet encoder whose weights are not on this machine: listed as unavailable with its card's
    # reason as the tooltip; choosing it says the reason once in the page, and runs nothing.
    reason = window.engine.unavailable()["resnet"]
    index = page.encoder_box.findData("resnet")
    assert page.encoder_box.itemText(index) == "resnet (unavailable)"
    assert page.encoder_box.itemData(index, Qt.ItemDataRole.ToolTipRole) == reason
    page.set_encoder("resnet")
    assert not window.worker.is_busy()  # nothing to load or embed
    wait_idle(qtbot, window)
    assert page.encoder == "resnet"
    for pane in page.panes:
        assert not pane.error_text and pane.view.boxes  # the photo and its faces stay, no error there
    assert page.result.verdict.text() == "" and page.result.encoder is None
    assert reason in page.result.details.text()
    assert len(labels_saying(page, reason)) == 1
    page.set_encoder(ENCODER)  # back: the embeddings are reused and the verdict comes back
    qtbot.waitUntil(lambda: verdict(page) == "Same person", timeout=3000)
    assert all(not pane.error_text for pane in page.panes)
    assert page.threshold.value() == default_threshold(ENCODER, "euclidean_l2")[0]


def test_click_another_face_and_errors_in_the_pane(compare, qtbot, tmp_path):
    window, page = compare
    group = GROUP / "photos" / "face_recognition_two_people.jpg"
    drop_paths(page.panes[0], [group])
    drop_paths(page.panes[1], [GROUP / "enrollment" / "biden" / "biden.jpg"])
    wait_idle(qtbot, window)
    view = page.panes[0].view
    assert len(view.boxes) == 2
    # Biden is one of the two: by default the face closest to photo B's one is compared (as
    # `facereid verify --closest`), and the pane says so
    faces = page.photos[0].embeddings[ENCODER]
    distances = [engine_distance(f, page.photos[1].embeddings[ENCODER][0]) for f in faces]
    assert min(distances) <= default_threshold(ENCODER, "euclidean")[0] < max(distances)
    closest = int(np.argmin(distances))
    expected = verification(group, GROUP / "enrollment" / "biden" / "biden.jpg", compare="closest")
    assert (page.chosen[0], view._chosen) == (closest, closest) == (expected.face1_index, expected.face1_index)
    assert verdict(page) == "Same person" and page.result.distance == pytest.approx(expected.distance, abs=1e-6)
    assert page.panes[0].message.text() == (f"2 faces found; comparing face {closest + 1}, the closest to "
                                            "photo B's face (click another face to compare it).")
    first = page.result.distance
    other = 1 - page.chosen[0]  # clicking another face still compares that one
    centre = view.box_rect(other).center().toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=centre)
    assert page.chosen[0] == other and view._chosen == other
    qtbot.waitUntil(lambda: page.result.distance != first, timeout=3000)
    expected = engine_distance(faces[other], page.photos[1].embeddings[ENCODER][0], "euclidean")
    assert page.result.distance == pytest.approx(expected)
    assert verdict(page) == "Different people" and "the one you clicked" in page.panes[0].message.text()
    page.set_distance("cosine")  # a click is kept whatever the distance
    qtbot.waitUntil(lambda: page.result.distance == pytest.approx(
        engine_distance(faces[other], page.photos[1].embeddings[ENCODER][0], "cosine")), timeout=3000)
    assert page.chosen[0] == other
    page.set_distance("euclidean")

    # the other detector finds the faces again; the closest face is compared again
    page.set_detector("yunet")
    wait_idle(qtbot, window)
    from facereid_engine.pipeline import get_pipeline
    from facereid_engine.images import load_image
    yunet_boxes = [f.box for f in sorted(get_pipeline(ENCODER, detector="yunet").find_faces(load_image(group)),
                                         key=lambda f: -f.area)]
    assert view.boxes == yunet_boxes and page.photos[0].detector == "yunet"
    assert verdict(page) == "Same person" and "the closest to photo B's face" in page.panes[0].message.text()
    page.set_detector("mmod")
    wait_idle(qtbot, window)

    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not a photo")
    drop_paths(page.panes[1], [not_image])
    wait_idle(qtbot, window)
    assert page.panes[1].error_text.startswith("This file cannot be opened as a photo")
    assert page.result.verdict.text() == ""

    blank = tmp_path / "blank.png"
    from PIL import Image
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    drop_paths(page.panes[1], [blank])
    wait_idle(qtbot, window)
    assert page.panes[1].error_text == "No face was found in this photo."
    assert not page.panes[1].whole_button.isHidden()
    page.panes[1].whole_button.click()  # "this photo is already a face crop"
    wait_idle(qtbot, window)
    assert page.panes[1].message.text() == "The whole photo is used as the face."
    assert page.panes[1].view.boxes == [(0, 0, 199, 199)]
    assert page.result.verdict.text() in ("Same person", "Different people")


def test_an_encoder_that_fails_to_load_is_said_once(make_window, qtbot, tmp_path, monkeypatch):
    """Its card saw a weights file, but the file is not weights: the error is the encoder's, the
    same for both photos, so it is said once under them, not in each pane."""
    from facereid_engine.encoders.imagenet import weights_filename

    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / weights_filename("squeezenet")).write_bytes(b"not a state dict")
    monkeypatch.setenv("FACEREID_WEIGHTS_DIR", str(folder))
    window = make_window()
    page = window.page("Compare")
    window.tabs.setCurrentWidget(page)
    drop_paths(page.panes[0], list(SAME))
    wait_idle(qtbot, window)
    assert "squeezenet" not in window.engine.unavailable()
    page.set_encoder("squeezenet")
    wait_idle(qtbot, window)
    assert page.result.verdict.text() == "" and all(not pane.error_text for pane in page.panes)
    assert len(labels_saying(page, "cannot be used here")) == 1
    assert str(folder / weights_filename("squeezenet")) in page.result.details.text()
    page.set_encoder(ENCODER)
    qtbot.waitUntil(lambda: verdict(page) == "Same person", timeout=3000)


def test_load_weights_file_checks_its_hash(compare, qtbot, tmp_path):
    """An ImageNet encoder without its weights offers "Load weights file…"; a file that is not the
    weights (its SHA-256 does not begin with the hash in torchvision's file name) is refused, said
    in the page, and nothing is written where the engine looks."""
    import os

    from facereid_engine.encoders.imagenet import weights_filename

    window, page = compare
    drop_paths(page.panes[0], list(SAME))
    wait_idle(qtbot, window)
    assert page.weights_button.isHidden()  # the default: nothing to load
    page.set_encoder("resnet")
    wait_idle(qtbot, window)
    assert not page.weights_button.isHidden()
    assert weights_filename("resnet") in page.weights_button.toolTip()
    wrong = tmp_path / weights_filename("resnet")  # the right name is not enough
    wrong.write_bytes(b"not the weights")
    page.load_weights(str(wrong))
    wait_idle(qtbot, window)
    details = page.result.details.text()
    assert "That file was not loaded" in details and "SHA-256 begins" in details
    assert len(labels_saying(page, "cannot be used here")) == 1
    assert os.listdir(os.environ["FACEREID_WEIGHTS_DIR"]) == []
    assert "resnet" in window.engine.unavailable()
    page.set_encoder(ENCODER)
    qtbot.waitUntil(lambda: verdict(page) == "Same person", timeout=3000)
    assert page.weights_button.isHidden()


def test_a_weights_file_with_the_hash_of_its_name_is_installed(tmp_path):
    """The check itself, on a file named after its own SHA-256 (as torchvision names its files)."""
    from facereid_engine.errors import ModelFileError
    from facereid_gui.jobs.weights import install_weights_file, sha256_of

    source = tmp_path / "downloads" / "weights.pth"
    source.parent.mkdir()
    source.write_bytes(bytes(range(256)) * 4096)
    name = f"toynet-{sha256_of(source)[:8]}.pth"
    target = install_weights_file(source, name, tmp_path / "where-the-engine-looks")
    assert target == tmp_path / "where-the-engine-looks" / name
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(ModelFileError, match="SHA-256 begins"):
        install_weights_file(source, "toynet-00000000.pth", tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "toynet-00000000.pth").exists()
