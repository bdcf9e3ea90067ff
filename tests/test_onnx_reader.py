"""Our ONNX reader against the onnx package, our dequantisation against onnxruntime, and damaged files."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import onnx_oracle
import pytest

import facereid_engine
from facereid_engine.errors import ModelFileError, ModelUnavailableError
from facereid_engine.onnx import (SFACE_FILE, YUNET_FILE, dequantize_linear, fold_constants, load_zoo_model,
                                  parse_model, read_model, resources_dir, zoo_model_path)
from facereid_engine.onnx.weights import SHA256



def _oracles():
    """onnx and onnxruntime: test-only oracles; the reader itself needs neither."""
    return pytest.importorskip("onnx"), pytest.importorskip("onnxruntime")

ZOO = Path(facereid_engine.__file__).resolve().parents[1] / "resources" / "opencv_zoo"


def test_resources_dir_is_beside_the_package_and_overridable(monkeypatch, tmp_path):
    monkeypatch.delenv("FACEREID_RESOURCES", raising=False)
    assert resources_dir() == ZOO.parent
    assert zoo_model_path(YUNET_FILE) == ZOO / YUNET_FILE
    monkeypatch.setenv("FACEREID_RESOURCES", str(tmp_path))
    assert resources_dir() == tmp_path


def test_sha256sums_file_agrees_with_the_code_and_the_files():
    listed = dict(reversed(line.split()) for line in (ZOO / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert listed == SHA256
    for name, digest in SHA256.items():
        assert hashlib.sha256((ZOO / name).read_bytes()).hexdigest() == digest
    assert (ZOO / "LICENSE").read_text().count("Apache License") >= 1


@pytest.mark.parametrize("name", [YUNET_FILE, SFACE_FILE])
def test_reader_agrees_with_onnx(name):
    onnx, _ = _oracles()
    from onnx import numpy_helper
    ours = read_model(ZOO / name)
    ref = onnx.load(str(ZOO / name))
    assert ours.ir_version == ref.ir_version
    assert ours.opsets == {o.domain: o.version for o in ref.opset_import}
    assert len(ours.graph.initializers) == len(ref.graph.initializer)
    for t in ref.graph.initializer:
        expected, got = numpy_helper.to_array(t), ours.graph.initializers[t.name]
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got, expected), t.name
    assert len(ours.graph.nodes) == len(ref.graph.node)
    for node, r in zip(ours.graph.nodes, ref.graph.node):
        assert (node.op_type, node.inputs, node.outputs) == (r.op_type, list(r.input), list(r.output))
        for a in r.attribute:
            value = onnx.helper.get_attribute_value(a)
            if isinstance(value, onnx.TensorProto):
                value = numpy_helper.to_array(value)
            assert np.array_equal(np.asarray(node.attributes[a.name]), np.asarray(value)), a.name
    assert [(v.name, v.shape) for v in ours.graph.outputs] == [
        (o.name, [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim]) for o in ref.graph.output]


def test_dequantised_weights_are_bitwise_onnxruntimes():
    onnx, _ = _oracles()
    ours = fold_constants(read_model(ZOO / YUNET_FILE))
    ref = onnx_oracle.yunet_model()
    names = [n.output[0] for n in ref.graph.node if n.op_type == "DequantizeLinear"]
    assert len(names) == 64
    for name in names:
        ref.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    values = onnx_oracle.session(ref, optimise=False).run(names, {"input": np.zeros((1, 3, 32, 32), np.float32)})
    for name, value in zip(names, values):
        assert ours[name].dtype == np.float32 and np.array_equal(ours[name], value), name


def test_dequantize_linear_blocks():
    q = np.array([[1, 2, 3, -4, 5]], dtype=np.int8)
    scale = np.array([[0.5, 2.0]], dtype=np.float32)
    zp = np.array([[1, -1]], dtype=np.int8)
    got = dequantize_linear(q, scale, zp, axis=1, block_size=3)
    assert np.array_equal(got, np.array([[0.0, 0.5, 1.0, -6.0, 12.0]], dtype=np.float32))
    assert np.array_equal(dequantize_linear(q, np.float32(0.25), np.int8(1)), (q.astype(np.float32) - 1) * 0.25)
    with pytest.raises(ValueError):
        dequantize_linear(q, np.ones((1, 3), np.float32), np.zeros((1, 3), np.int8), axis=1, block_size=3)


@pytest.mark.parametrize("cut", [0, 1, 7, 1000, 60_000, 122_488])
def test_truncated_file_is_a_model_file_error(tmp_path, cut):
    data = (ZOO / YUNET_FILE).read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:cut])
    with pytest.raises(ModelFileError) as err:
        read_model(path)
    assert str(path) in str(err.value)


def test_flipped_bytes_never_crash_the_reader():
    data = bytearray((ZOO / YUNET_FILE).read_bytes())
    bad = bytearray(data)
    bad[0] ^= 0xFF  # the first key: a field number / wire type we cannot read
    with pytest.raises(ModelFileError, match="damaged or unexpected ONNX"):
        parse_model(bytes(bad), "flipped.onnx")
    rng = np.random.default_rng(0)
    for pos in rng.integers(0, len(data), 40):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        try:
            parse_model(bytes(bad), "flipped.onnx")  # a flip inside weight bytes parses: the checksum catches it
        except ModelFileError as exc:
            assert exc.path == "flipped.onnx"


def test_not_onnx_is_a_model_file_error(tmp_path):
    path = tmp_path / "photo.onnx"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a model")
    with pytest.raises(ModelFileError):
        read_model(path)


def test_changed_or_missing_weights_are_refused(monkeypatch, tmp_path):
    zoo = tmp_path / "opencv_zoo"
    zoo.mkdir()
    monkeypatch.setenv("FACEREID_RESOURCES", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match="FACEREID_RESOURCES"):
        load_zoo_model(YUNET_FILE)
    data = bytearray((ZOO / YUNET_FILE).read_bytes())
    data[100_000] ^= 0x01  # inside a weight: still parses, but is not the file we expect
    (zoo / YUNET_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="SHA-256") as err:
        load_zoo_model(YUNET_FILE)
    assert err.value.path == str(zoo / YUNET_FILE)
    shutil.copyfile(ZOO / YUNET_FILE, zoo / YUNET_FILE)
    assert len(load_zoo_model(YUNET_FILE).graph.nodes) == 214
