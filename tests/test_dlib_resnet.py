"""The PyTorch port of dlib's face-recognition ResNet against dlib-bin itself, on real LFW faces."""
from __future__ import annotations

import dlib
import numpy as np
import pytest
from PIL import Image

from data_paths import lfw_image
from facereid_engine.encoders.dlib_resnet import (
    MODEL_FILE, DlibEncoder, load_dlib_encoder, load_dlib_resnet, zero_extend_add,
)
from facereid_engine.errors import ModelFileError
from facereid_engine.paths import dlib_model_path

FACES = [("Aaron_Peirsol", 1), ("Aaron_Peirsol", 2), ("George_W_Bush", 1), ("George_W_Bush", 2),
         ("George_W_Bush", 3), ("Serena_Williams", 1), ("Serena_Williams", 2), ("Colin_Powell", 1),
         ("Colin_Powell", 2), ("Tony_Blair", 1), ("Tony_Blair", 2), ("Venus_Williams", 1),
         ("Gerhard_Schroeder", 1), ("Jennifer_Aniston", 1)]


@pytest.fixture(scope="module")
def chips() -> np.ndarray:
    """150x150 chips cut by dlib itself (HOG detector, 5-point landmarks, get_face_chip)."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
    out = []
    for name, number in FACES:
        image = np.asarray(Image.open(lfw_image(name, number)).convert("RGB"))
        boxes = detector(image, 1)
        assert len(boxes) >= 1, f"{name} {number}: dlib found no face"
        box = max(boxes, key=lambda b: b.area())
        out.append(dlib.get_face_chip(image, predictor(image, box), size=150, padding=0.25))
    return np.stack(out)


@pytest.fixture(scope="module")
def dlib_descriptors(chips) -> np.ndarray:
    model = dlib.face_recognition_model_v1(str(dlib_model_path(MODEL_FILE)))
    return np.array([np.array(d) for d in model.compute_face_descriptor(list(chips))], dtype=np.float32)


@pytest.fixture(scope="module")
def encoder() -> DlibEncoder:
    return DlibEncoder(device="cpu")


@pytest.fixture(scope="module")
def ours(encoder, chips) -> np.ndarray:
    return encoder.embed(chips)


def test_descriptors_match_dlib(ours, dlib_descriptors):
    assert ours.shape == (len(FACES), 128) and ours.dtype == np.float32
    assert np.abs(ours - dlib_descriptors).max() < 1e-5
    norms = np.linalg.norm(ours, axis=1)  # raw, not L2-normalised
    assert np.all((norms > 1.2) & (norms < 1.8))


def test_batched_equals_one_by_one(chips):
    chips = chips[:7]
    one_by_one = DlibEncoder(device="cpu", batch_size=1)
    batched = DlibEncoder(device="cpu", batch_size=3)  # sub-batches of 3, 3 and 1
    single = one_by_one.embed(chips)
    np.testing.assert_allclose(batched.embed(chips), single, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(one_by_one.embed(chips[3:4])[0], single[3])


def test_same_person_close_different_far(ours):
    d = ours
    index = {face: i for i, face in enumerate(FACES)}

    def dist(a, b):
        return float(np.linalg.norm(d[index[a]] - d[index[b]]))

    for name, a, b in [("George_W_Bush", 1, 2), ("Serena_Williams", 1, 2), ("Colin_Powell", 1, 2),
                       ("Tony_Blair", 1, 2), ("Aaron_Peirsol", 1, 2)]:
        assert dist((name, a), (name, b)) < 0.6, name
    for a, b in [("George_W_Bush", "Tony_Blair"), ("Venus_Williams", "Jennifer_Aniston"),
                 ("Colin_Powell", "Gerhard_Schroeder"), ("Jennifer_Aniston", "Serena_Williams")]:
        assert dist((a, 1), (b, 1)) > 0.6, (a, b)


def test_encoder_contract(encoder):
    assert (encoder.name, encoder.dim, encoder.chip_size, encoder.chip_padding) == ("dlib", 128, 150, 0.25)
    assert "public domain" in encoder.licence and encoder.description
    assert encoder.embed(np.zeros((0, 150, 150, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match="uint8"):
        encoder.embed(np.zeros((1, 150, 150, 3), np.float32))
    with pytest.raises(ValueError, match="150"):
        encoder.embed(np.zeros((1, 112, 112, 3), np.uint8))
    assert load_dlib_encoder("cpu") is load_dlib_encoder("cpu")


def test_zero_extension_is_bottom_right():
    import torch
    a = torch.ones(1, 2, 2, 2)
    b = torch.full((1, 1, 3, 3), 10.0)
    s = zero_extend_add(a, b)
    assert s.shape == (1, 2, 3, 3)
    assert s[0, 0].tolist() == [[11, 11, 10], [11, 11, 10], [10, 10, 10]]
    assert s[0, 1].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    c = torch.ones(1, 2, 2, 2)
    assert zero_extend_add(c, a, inplace=True) is c and c.eq(2).all()


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return dlib_model_path(MODEL_FILE).read_bytes()


def _load_fails(tmp_path, data: bytes) -> ModelFileError:
    path = tmp_path / "resnet.dat"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as info:
        DlibEncoder(path, device="cpu")
    assert info.value.path == str(path) and str(path) in str(info.value)
    return info.value


def test_truncated_model(tmp_path, model_bytes):
    assert "ends early" in _load_fails(tmp_path, model_bytes[:-1000]).cause


def test_flipped_header(tmp_path, model_bytes):
    data = bytearray(model_bytes)
    data[4] ^= 0x20  # 'loss_metric_2' -> 'Loss_metric_2'
    assert "loss_metric_2" in _load_fails(tmp_path, bytes(data)).cause


def test_different_wiring_is_refused(tmp_path, model_bytes):
    """Swap a tag's version with its neighbour's: the file still parses, but the wiring is not the ResNet's."""
    data = bytearray(model_bytes)
    at = 29 + 2 * 5  # sixth version (a skip layer, 1) after the fc, avg_pool, relu, add_prev, avg_pool
    assert data[at:at + 4] == b"\x01\x01\x01\x01" and data[at - 2:at] == b"\x01\x02"
    data[at - 1], data[at + 1] = 1, 2
    assert "wiring" in _load_fails(tmp_path, bytes(data)).cause


def test_wrong_model_file():
    path = dlib_model_path("mmod_human_face_detector.dat")
    with pytest.raises(ModelFileError) as info:
        load_dlib_resnet(path)
    assert info.value.path == str(path) and "loss_metric_2" in info.value.cause
