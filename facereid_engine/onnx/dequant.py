"""Constant folding of an ONNX graph's weight sub-graphs: DequantizeLinear, Reshape, Constant.

OpenCV Zoo's ``int8bq`` files keep most weights as int8 blocks with float32 scales and int8 zero
points; ``DequantizeLinear`` (opset 21, ``axis`` / ``block_size``) turns them into float32 and a
``Reshape`` gives them their convolution shape. We compute those values once, in float32, with the
same arithmetic as the operator: ``(float)(q - zero_point) * scale``, one rounding per value.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelFileError
from .reader import Model, Node

FOLDABLE = frozenset({"DequantizeLinear", "Reshape", "Constant", "Identity"})


def dequantize_linear(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None,
                      axis: int = 1, block_size: int = 0) -> np.ndarray:
    """ONNX ``DequantizeLinear``: per tensor, per axis, or blocked along ``axis``; float32 out."""
    scale = np.asarray(scale, dtype=np.float32)
    zp = np.zeros(scale.shape, dtype=np.int32) if zero_point is None else np.asarray(zero_point)
    if zp.shape != scale.shape:
        raise ValueError(f"zero point shape {zp.shape} differs from scale shape {scale.shape}")
    zp = zp.astype(np.int32)
    if scale.ndim == 0 or scale.size == 1 and block_size == 0:
        s, z = scale.reshape(()), zp.reshape(())
    elif block_size == 0:  # per axis: 1-D scale along ``axis``
        axis = axis % q.ndim
        if scale.ndim != 1 or scale.shape[0] != q.shape[axis]:
            raise ValueError(f"per-axis scale {scale.shape} does not fit {q.shape} on axis {axis}")
        shape = [1] * q.ndim
        shape[axis] = -1
        s, z = scale.reshape(shape), zp.reshape(shape)
    else:  # blocked: scale has q's shape but ceil(D / block_size) along ``axis``
        axis = axis % q.ndim
        blocks = -(-q.shape[axis] // block_size)
        expected = q.shape[:axis] + (blocks,) + q.shape[axis + 1:]
        if scale.shape != expected:
            raise ValueError(f"blocked scale {scale.shape} does not fit {q.shape} (expected {expected})")
        s = np.repeat(scale, block_size, axis=axis).take(range(q.shape[axis]), axis=axis)
        z = np.repeat(zp, block_size, axis=axis).take(range(q.shape[axis]), axis=axis)
    diff = (q.astype(np.int32) - z).astype(np.float32)
    return (diff * s).astype(np.float32)


def _fold(node: Node, args: list[np.ndarray | None]) -> np.ndarray:
    a = node.attributes
    if node.op_type == "DequantizeLinear":
        zp = args[2] if len(args) > 2 else None
        return dequantize_linear(args[0], args[1], zp, int(a.get("axis", 1)), int(a.get("block_size", 0)))
    if node.op_type == "Reshape":
        shape = [int(v) for v in args[1]]
        if not a.get("allowzero", 0):
            shape = [args[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return args[0].reshape(shape)
    if node.op_type == "Constant":
        if "value" in a:
            return np.asarray(a["value"])
        for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                           ("value_int", np.int64), ("value_ints", np.int64)):
            if key in a:
                return np.asarray(a[key], dtype=dtype)
        raise ValueError(f"unsupported Constant attributes {sorted(a)}")
    return args[0]  # Identity


def fold_constants(model: Model) -> dict[str, np.ndarray]:
    """Every value computable from initializers alone through DequantizeLinear / Reshape / Constant,
    by name (initializers included); a bad weight sub-graph raises :class:`ModelFileError`."""
    values = dict(model.graph.initializers)
    for node in model.graph.nodes:
        if node.op_type not in FOLDABLE or not all(i == "" or i in values for i in node.inputs):
            continue
        try:
            result = _fold(node, [values[i] if i else None for i in node.inputs])
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            raise ModelFileError(model.path, f"bad {node.op_type} node {node.outputs}: {exc}") from exc
        values[node.outputs[0]] = result
    return values
