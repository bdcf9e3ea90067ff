"""The generic dlib network reader, on the real ResNet file and on damaged copies of it."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from facereid_engine.dlib.format import DlibReader
from facereid_engine.dlib.layers import DlibNet, read_network
from facereid_engine.errors import ModelFileError
from facereid_engine.paths import dlib_model_path

RESNET = "dlib_face_recognition_resnet_model_v1.dat"


def _loss(r: DlibReader) -> dict:
    return dict(margin=r.float(), dist_thresh=r.float())


def _input(r: DlibReader) -> dict:
    return dict(mean=(r.float(), r.float(), r.float()), nr=r.int(), nc=r.int())


def _read(path) -> DlibNet:
    return read_network(path, loss_name="loss_metric_2", read_loss=_loss,
                        input_name="input_rgb_image_sized", read_input=_input)


@pytest.fixture(scope="module")
def resnet_bytes() -> bytes:
    return dlib_model_path(RESNET).read_bytes()


@pytest.fixture(scope="module")
def net() -> DlibNet:
    return _read(dlib_model_path(RESNET))


def test_loss_and_input_fields(net):
    assert net.loss == {"margin": float(np.float32(0.04)), "dist_thresh": float(np.float32(0.6))}
    assert net.input == {"mean": tuple(float(np.float32(m)) for m in (122.782, 117.001, 104.298)),
                         "nr": 150, "nc": 150}


def test_versions_and_layer_kinds(net):
    assert len(net.versions) == 130
    assert net.versions[:14] == [2, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 1, 2]
    assert net.versions[-1] == 3 and net.versions.count(3) == 1
    assert Counter(net.versions) == {2: 107, 1: 22, 3: 1}
    assert len(net.layers) == 108
    assert Counter(layer.kind for layer in net.layers) == {
        "con_4": 29, "affine_": 29, "relu_": 29, "add_prev_": 14, "avg_pool_2": 5, "max_pool_2": 1, "fc_2": 1}
    assert [layer.kind for layer in net.layers[:4]] == ["con_4", "affine_", "relu_", "max_pool_2"]
    assert [layer.kind for layer in net.layers[-3:]] == ["relu_", "avg_pool_2", "fc_2"]


def test_layer_parameters(net):
    first = net.layers[0].params
    assert (first["num_filters"], first["nr"], first["nc"]) == (32, 7, 7)
    assert (first["stride_y"], first["stride_x"], first["padding_y"], first["padding_x"]) == (2, 2, 0, 0)
    assert first["weight"].shape == (32, 3, 7, 7) and first["weight"].dtype == np.float32
    assert first["bias"].shape == (32,)
    block_conv = net.layers[4].params
    assert block_conv["weight"].shape == (32, 32, 3, 3)
    assert (block_conv["stride_y"], block_conv["padding_y"], block_conv["padding_x"]) == (1, 1, 1)
    assert net.layers[1].params["gamma"].shape == (32,) and net.layers[1].params["mode"] == "conv"
    assert net.layers[3].params == {"nr": 3, "nc": 3, "stride_y": 2, "stride_x": 2, "padding_y": 0, "padding_x": 0}
    assert net.layers[-2].params["nr"] == 0 and net.layers[-2].params["nc"] == 0  # average over everything
    fc = net.layers[-1].params
    assert fc["weight"].shape == (128, 256) and fc["bias"] is None
    assert all(np.isfinite(layer.params["weight"]).all() for layer in net.layers if "weight" in layer.params)


def test_fc_weight_is_transposed_from_file(net, resnet_bytes):
    """dlib stores fc weights inputs x outputs; the record gives torch's (out, in)."""
    fc = net.layers[-1].params
    stored = np.frombuffer(resnet_bytes, dtype="<f4", count=256 * 128,
                           offset=resnet_bytes.find(fc["weight"].T.tobytes()[:64]))
    np.testing.assert_array_equal(stored.reshape(256, 128).T, fc["weight"])


def _damaged(tmp_path, data: bytes):
    path = tmp_path / "damaged.dat"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as info:
        _read(path)
    assert info.value.path == str(path)
    return info.value


def test_truncated_file(tmp_path, resnet_bytes):
    err = _damaged(tmp_path, resnet_bytes[: len(resnet_bytes) // 2])
    assert "ends early" in err.cause


def test_trailing_bytes(tmp_path, resnet_bytes):
    err = _damaged(tmp_path, resnet_bytes + b"\x01\x00")
    assert "2 unexpected bytes after the last layer" in err.cause


def test_flipped_header_bytes(tmp_path, resnet_bytes):
    data = bytearray(resnet_bytes)
    data[5] ^= 0x20  # 'loss_metric_2' -> 'lOss_metric_2'
    err = _damaged(tmp_path, bytes(data))
    assert "loss layer: expected 'loss_metric_2', read 'lOss_metric_2'" in err.cause
    data = bytearray(resnet_bytes)
    data[30] = 0x05  # a nested layer's version
    err = _damaged(tmp_path, bytes(data))
    assert "bad layer version 5" in err.cause


def test_flipped_layer_name(tmp_path, resnet_bytes):
    data = bytearray(resnet_bytes)
    at = resnet_bytes.find(b"affine_")
    data[at] = ord("X")
    err = _damaged(tmp_path, bytes(data))
    assert "unknown layer record 'Xffine_'" in err.cause


def test_wrong_model_file(tmp_path):
    with pytest.raises(ModelFileError) as info:
        _read(dlib_model_path("mmod_human_face_detector.dat"))
    assert "mmod_human_face_detector.dat" in str(info.value)
    assert "loss_metric_2" in info.value.cause


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError) as info:
        _read(tmp_path / "absent.dat")
    assert "absent.dat" in str(info.value)
