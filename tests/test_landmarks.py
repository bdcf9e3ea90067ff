"""The numpy port of dlib's 5-point shape predictor against dlib-bin itself, on real faces."""
from __future__ import annotations

import shutil

import dlib
import numpy as np
import pytest
from PIL import Image

from data_paths import GROUP, LFW_IMAGES
from facereid_engine import paths
from facereid_engine.landmarks import model_file as landmarks_file
from facereid_engine.errors import ModelFileError
from facereid_engine.landmarks.predictor import MODEL_FILE, ShapePredictor, load_shape_predictor
from facereid_engine.landmarks.model_file import load_shape_predictor_model, parse_shape_predictor

LFW_SAMPLE = sorted(LFW_IMAGES.glob("*/*.jpg"))[::450]  # 30 people, spread over the alphabet
GROUP_SAMPLE = ["deepface_couple.jpg", "face_recognition_kit_with_rose.jpg",
                "facenet-pytorch_multiface_friends_cast.jpg", "deepface_selfie-many-people.jpg"]


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _dlib_points(shape) -> np.ndarray:
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], dtype=np.float64)


@pytest.fixture(scope="module")
def oracle():
    return dlib.shape_predictor(str(paths.dlib_model_path(MODEL_FILE)))


@pytest.fixture(scope="module")
def predictor() -> ShapePredictor:
    return load_shape_predictor()


@pytest.fixture(scope="module")
def hog():
    return dlib.get_frontal_face_detector()


def _check_image(image, boxes, predictor, oracle) -> int:
    ours = predictor.predict_many(image, boxes)
    assert ours.shape == (len(boxes), 5, 2) and ours.dtype == np.float64
    for box, got in zip(boxes, ours):
        want = _dlib_points(oracle(image, dlib.rectangle(*box)))
        np.testing.assert_array_equal(got, want, err_msg=f"box {box}")
    return len(boxes)


def test_lfw_faces_match_dlib_exactly(predictor, oracle, hog):
    assert len(LFW_SAMPLE) == 30
    n = 0
    for path in LFW_SAMPLE:
        image = _rgb(path)
        boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in hog(image, 0)]
        boxes = boxes or [(68, 68, 180, 180)]  # the deep-funneled LFW face sits in the middle
        n += _check_image(image, boxes, predictor, oracle)
    assert n >= 30


def test_group_photo_faces_match_dlib_exactly(predictor, oracle, hog):
    n = 0
    for name in GROUP_SAMPLE:
        image = _rgb(GROUP / "photos" / name)
        boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in hog(image, 0)]
        assert boxes, name
        n += _check_image(image, boxes, predictor, oracle)
    assert n >= 10


def test_odd_boxes_match_dlib_exactly(predictor, oracle):
    """Boxes that are not square, not on a face, or partly outside the image."""
    rng = np.random.default_rng(7)
    for path in LFW_SAMPLE[:12]:
        image = _rgb(path)
        boxes = []
        for _ in range(12):
            left, top = (int(v) for v in rng.integers(-60, 150, 2))
            width, height = (int(v) for v in rng.integers(12, 280, 2))
            boxes.append((left, top, left + width, top + height))
        _check_image(image, boxes, predictor, oracle)


def test_grey_image_matches_dlib(predictor, oracle):
    image = np.ascontiguousarray(_rgb(LFW_SAMPLE[3])[:, :, 1])
    _check_image(image, [(70, 70, 180, 180), (40, 60, 200, 230)], predictor, oracle)


def test_batch_over_images_matches_dlib_exactly(predictor, oracle, hog):
    """One predict_batch call over faces of several images (one repeated) equals dlib face by face."""
    images, boxes = [], []
    for path in LFW_SAMPLE[:10]:
        image = _rgb(path)
        for r in hog(image, 0) or [dlib.rectangle(68, 68, 180, 180)]:
            images.append(image)
            boxes.append((r.left(), r.top(), r.right(), r.bottom()))
        images.append(image)
        boxes.append((-30, 100, 90, 300))  # partly outside
    group = _rgb(GROUP / "photos" / GROUP_SAMPLE[2])
    for r in hog(group, 0):
        images.append(group)
        boxes.append((r.left(), r.top(), r.right(), r.bottom()))
    got = predictor.predict_batch(images, boxes)
    assert got.shape == (len(boxes), 5, 2) and len(boxes) >= 25
    for image, box, points in zip(images, boxes, got):
        np.testing.assert_array_equal(points, _dlib_points(oracle(image, dlib.rectangle(*box))), err_msg=f"box {box}")
    np.testing.assert_array_equal(got[-1], predictor.predict(group, boxes[-1]))
    with pytest.raises(ValueError):
        predictor.predict_batch(images[:2], boxes[:1])


def test_strided_image_views_match_dlib(predictor, oracle):
    """Views that are not contiguous (a crop, a mirror) read the same pixels as their copies."""
    image = _rgb(LFW_SAMPLE[7])
    boxes = [(60, 70, 170, 180), (-20, 5, 120, 140)]
    for view in (image[10:, 7:-3], image[:, ::-1], image[::2, ::2]):
        assert not view.flags.c_contiguous
        _check_image(np.ascontiguousarray(view), boxes, predictor, oracle)
        np.testing.assert_array_equal(predictor.predict_many(view, boxes),
                                      predictor.predict_many(np.ascontiguousarray(view), boxes))


def test_tree_walk_without_the_leaf_table_gives_the_same_landmarks(predictor):
    """Trees deeper than 4 levels are walked node by node; on this model both ways must agree."""
    walker = ShapePredictor(predictor.model)
    walker._table = None
    image = _rgb(LFW_SAMPLE[4])
    boxes = [(68, 68, 180, 180), (30, 50, 200, 240), (-40, -10, 90, 120)]
    np.testing.assert_array_equal(walker.predict_many(image, boxes), predictor.predict_many(image, boxes))


def test_predict_is_one_row_of_predict_many(predictor):
    image = _rgb(LFW_SAMPLE[0])
    boxes = [(68, 68, 180, 180), (50, 40, 200, 210)]
    many = predictor.predict_many(image, boxes)
    np.testing.assert_array_equal(predictor.predict(image, boxes[1]), many[1])
    assert predictor.predict_many(image, []).shape == (0, 5, 2)
    with pytest.raises(ValueError):
        predictor.predict(image.astype(np.float32), boxes[0])


def test_model_arrays_have_dlib_layout(predictor):
    m = predictor.model
    assert m.initial_shape.shape == (10,) and m.initial_shape.dtype == np.float32
    assert m.split_index.shape == (15, 500, 15, 2)
    assert m.leaves.shape == (15, 500, 16, 10)
    assert m.anchor.shape == (15, 800) and m.deltas.shape == (15, 800, 2)
    assert 0 <= m.split_index.min() and m.split_index.max() < 800 and m.anchor.max() < 5


def test_cache_is_used_and_keyed_by_the_file(predictor, monkeypatch, tmp_path):
    model_path = paths.dlib_model_path(MODEL_FILE)
    cached = list(paths.cache_dir().glob(f"{model_path.stem}-*.npz"))
    assert len(cached) == 1  # written when the module fixture loaded the model

    def no_parsing(path):
        raise AssertionError(f"parsed {path} although its cache exists")

    monkeypatch.setattr(landmarks_file, "parse_shape_predictor", no_parsing)
    again = load_shape_predictor_model(model_path)
    for name, array in predictor.model.arrays().items():
        np.testing.assert_array_equal(getattr(again, name), array)
    copy = tmp_path / MODEL_FILE  # same bytes, other mtime: another cache key, so parsed again
    shutil.copyfile(model_path, copy)
    with pytest.raises(AssertionError, match="parsed"):
        load_shape_predictor_model(copy)


def test_damaged_cache_is_rebuilt(tmp_path):
    copy = tmp_path / MODEL_FILE
    shutil.copyfile(paths.dlib_model_path(MODEL_FILE), copy)
    cache = landmarks_file.cache_path(copy)
    cache.write_bytes(b"not an npz file")
    model = load_shape_predictor_model(copy)
    assert model.leaves.shape == (15, 500, 16, 10)
    with np.load(cache) as npz:
        np.testing.assert_array_equal(npz["leaves"], model.leaves)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bad_version", "missing", "bad_count"])
def test_damaged_model_file_raises_model_file_error(tmp_path, damage):
    data = paths.dlib_model_path(MODEL_FILE).read_bytes()
    path = tmp_path / "shape_predictor.dat"
    if damage == "truncated":
        path.write_bytes(data[:400_000])
    elif damage == "garbage":
        path.write_bytes(data[:1000] + b"\x7f" * 50 + data[1050:1_000_000])
    elif damage == "bad_version":
        path.write_bytes(b"\x01\x02" + data[2:300])
    elif damage == "bad_count":  # the number of cascades (15) written as 0
        assert data[66:68] == b"\x01\x0f"
        path.write_bytes(data[:66] + b"\x01\x00" + data[68:200_000])
    with pytest.raises(ModelFileError) as info:
        parse_shape_predictor(path)
    assert str(path) in str(info.value)
    with pytest.raises(ModelFileError):
        load_shape_predictor(path)
