"""The MMOD face detector port against dlib-bin's ``cnn_face_detection_model_v1`` on real photos.

Both sides get the same decoded pixels (Pillow -> RGB uint8); boxes must be identical and scores
within 1e-3, in the same order.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from data_paths import GROUP, lfw_image
from facereid_engine.detect.model_file import MODEL_FILENAME, load_mmod_file
from facereid_engine.detect import MMODDetector, load_detector
from facereid_engine.errors import ModelFileError
from facereid_engine.faces import Detection
from facereid_engine.paths import dlib_model_path

dlib = pytest.importorskip("dlib")

# Single faces, several faces, faces cut by the border (negative coordinates), weak detections.
LFW_NAMES = [
    "Aaron_Eckhart", "Kweisi_Mfume", "Paris_Hilton", "Annette_Lu", "Herta_Daeubler-Gmelin",
    "Lincoln_Chafee", "Julio_Iglesias_Jr", "Gabriel_Farhi", "Spencer_Abraham", "Harold_Brown",
    "Peter_Medgyessy", "Betty_Williams", "Rob_Schneider", "Edward_Arsenault", "Damon_Stoudamire",
    "Mohammed_Ashraf_Hafiz", "Jean_Charest", "Mark_Mulder", "Claudia_Cardinale", "Lee_Soo-hyuck",
    "Susan_Sarandon", "Sherry_Fisher", "Steve_Cutler", "Elvis_Costello",
]


def load_rgb(path, max_side: int | None = None) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    return np.asarray(image)


@pytest.fixture(scope="module")
def ours() -> MMODDetector:
    return load_detector("cpu")


@pytest.fixture(scope="module")
def oracle():
    return dlib.cnn_face_detection_model_v1(str(dlib_model_path(MODEL_FILENAME)))


def dlib_detect(oracle, image: np.ndarray, upsample: int = 0) -> list[tuple[tuple[int, int, int, int], float]]:
    return [((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), d.confidence)
            for d in oracle(image, upsample)]


def assert_same(found: list[Detection], expected) -> None:
    assert [d.box for d in found] == [box for box, _ in expected]
    np.testing.assert_allclose([d.score for d in found], [s for _, s in expected], atol=1e-3, rtol=0)
    assert all(isinstance(v, int) for d in found for v in d.box)


def test_model_file_options():
    model = load_mmod_file(dlib_model_path(MODEL_FILENAME))
    assert [(w.width, w.height) for w in model.options.windows] == [(80, 80)]
    assert model.options.nms_iou == pytest.approx(0.3382761351109955, abs=1e-15)
    assert model.options.nms_percent_covered == 1.0
    assert model.input.padding == 10 and model.input.outer_padding == 11
    assert model.input.means == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert [c.weight.shape for c in model.convs] == [
        (16, 3, 5, 5), (32, 16, 5, 5), (32, 32, 5, 5), (45, 32, 5, 5), (45, 45, 5, 5), (45, 45, 5, 5),
        (1, 45, 9, 9)]
    assert [(c.stride, c.padding, c.relu) for c in model.convs] == [(2, 0, True)] * 3 + [(1, 2, True)] * 3 + [
        (1, 4, False)]


def test_damaged_model_file_is_a_typed_error(tmp_path):
    src = dlib_model_path(MODEL_FILENAME)
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(src.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="truncated.dat"):
        load_mmod_file(truncated)
    other = tmp_path / "other.dat"
    shutil.copy(dlib_model_path("shape_predictor_5_face_landmarks.dat"), other)
    with pytest.raises(ModelFileError, match="other.dat"):
        load_mmod_file(other)


def test_lfw_images_match_dlib(ours, oracle):
    counts = []
    for name in LFW_NAMES:
        image = load_rgb(lfw_image(name, 1))
        expected = dlib_detect(oracle, image)
        assert_same(ours.detect(image), expected)
        counts.append(len(expected))
    assert max(counts) >= 3 and min(counts) >= 1  # the set covers several faces per image


@pytest.mark.parametrize("photo, max_side", [
    ("deepface_selfie-many-people.jpg", None),  # 604x600, a box at x = -4.5 before rounding
    ("deepface_couple.jpg", 500),  # 2280x1588 photo, downscaled
    ("face_recognition_two_people.jpg", 500),
])
def test_group_photos_match_dlib(ours, oracle, photo, max_side):
    image = load_rgb(GROUP / "photos" / photo, max_side)
    expected = dlib_detect(oracle, image)
    assert len(expected) >= 2
    assert_same(ours.detect(image), expected)


def test_upsampling_matches_dlib(ours, oracle):
    image = load_rgb(GROUP / "photos" / "facenet-pytorch_multiface_friends_cast.jpg", 400)
    expected = dlib_detect(oracle, image, upsample=1)
    assert_same(ours.detect(image, upsample=1), expected)
    assert len(expected) > len(ours.detect(image))  # upsampling finds the small faces


def test_odd_sizes_match_dlib(ours, oracle):
    photo = load_rgb(GROUP / "photos" / "face_recognition_kit_with_rose.jpg")
    for top, left, height, width in [(100, 60, 251, 199), (150, 90, 123, 177), (0, 0, 97, 301), (300, 20, 77, 61)]:
        image = np.ascontiguousarray(photo[top:top + height, left:left + width])
        assert image.shape[:2] == (height, width)
        assert_same(ours.detect(image), dlib_detect(oracle, image))


def test_tiny_and_faceless_images(ours, oracle):
    grey = np.full((240, 320, 3), 128, np.uint8)
    assert dlib_detect(oracle, grey) == []
    assert ours.detect(grey) == []
    face = load_rgb(lfw_image("Aaron_Eckhart", 1))
    for size in (40, 13):  # smaller than the 80x80 window, still runs in dlib
        crop = np.ascontiguousarray(face[100:100 + size, 100:100 + size])
        assert dlib_detect(oracle, crop) == []
        assert ours.detect(crop) == []
    # dlib itself fails (or corrupts memory) on images a few pixels across: no faces here
    for shape in [(1, 1, 3), (7, 9, 3), (0, 0, 3)]:
        assert ours.detect(np.zeros(shape, np.uint8)) == []
        assert ours.detect(np.zeros(shape, np.uint8), upsample=1) == []


def test_grey_input_is_read_as_rgb(ours, oracle):
    grey = np.asarray(Image.open(lfw_image("Paris_Hilton", 1)).convert("L"))
    expected = dlib_detect(oracle, grey)
    assert len(expected) == 1
    assert_same(ours.detect(grey), expected)


def test_batch_equals_single_images(ours):
    images = [load_rgb(lfw_image(name, 1)) for name in ("Rob_Schneider", "Aaron_Eckhart")]
    odd = load_rgb(GROUP / "photos" / "face_recognition_kit_with_rose.jpg", 300)
    batch = ours.detect_batch(images + [odd, images[0]])
    assert batch == [ours.detect(im) for im in images + [odd, images[0]]]
    assert len(batch[0]) == 2


def test_bad_input_and_cache(ours):
    assert load_detector("cpu") is ours
    with pytest.raises(ValueError, match="uint8"):
        ours.detect(np.zeros((50, 50, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        ours.detect(np.zeros((50, 50, 4), np.uint8))
    with pytest.raises(ValueError, match="upsample"):
        ours.detect(np.zeros((50, 50, 3), np.uint8), upsample=-1)
