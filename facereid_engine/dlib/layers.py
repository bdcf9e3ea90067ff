"""Read a dlib network file (``serialize(net)`` of a dlib DNN) into plain numpy layer records.

A file holds, in this order (docs/dlib-models.md in the repository):
the loss layer (version 1, its name and options); the version integer of every nested layer from the
output side to the input side (2 ordinary, 1 tag / skip, 3 the layer on the input); the input layer;
then each ordinary layer's record from the input side to the output side, each followed by three
bools and three tensors (and, for the layer on the input, one more integer).

The caller supplies how to read its loss options and its input layer; the layer records are read
here, every field checked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .format import DlibReader
from ..errors import ModelFileError

ORDINARY, TAG_OR_SKIP, ON_INPUT = 2, 1, 3
CONV_MODE, FC_MODE = 0, 1


@dataclass
class Layer:
    """One ordinary layer: its record name as in the file (``con_4``, ``affine_`` ...) and parameters."""

    kind: str
    params: dict = field(default_factory=dict)


@dataclass
class DlibNet:
    """A parsed dlib network file."""

    loss: dict
    versions: list[int]  # nested layers' versions, output side -> input side, as in the file
    input: dict
    layers: list[Layer]  # ordinary layers, input side -> output side


# -- small checked readers ---------------------------------------------------------------------
def _alias(r: DlibReader, what: str) -> tuple[int, int, int, int]:
    """An ``alias_tensor``: version 1 and four sizes, no data."""
    r.expect_int(1, f"{what} alias tensor version")
    shape = tuple(r.int() for _ in range(4))
    if any(s < 0 for s in shape):
        raise r.fail(f"{what}: bad alias tensor shape {shape}")
    return shape  # type: ignore[return-value]


def _params(r: DlibReader, size: int, what: str) -> np.ndarray:
    """The layer's flat parameter tensor, which must hold exactly ``size`` floats."""
    t = r.tensor()
    if t.size != size:
        raise r.fail(f"{what}: parameter tensor holds {t.size} values, expected {size}")
    return t.reshape(-1)


def _positive(r: DlibReader, value: int, what: str) -> int:
    if value <= 0:
        raise r.fail(f"{what} must be positive, read {value}")
    return value


def _nonneg(r: DlibReader, value: int, what: str) -> int:
    if value < 0:
        raise r.fail(f"{what} must not be negative, read {value}")
    return value


def _multipliers(r: DlibReader, n: int) -> None:
    """Learning-rate / weight-decay multipliers (training only): read and dropped."""
    for _ in range(n):
        r.float()


# -- layer records -----------------------------------------------------------------------------
def _con_4(r: DlibReader) -> dict:
    flat = r.tensor().reshape(-1)
    num_filters = _positive(r, r.int(), "con_4 num_filters")
    nr = _positive(r, r.int(), "con_4 rows")
    nc = _positive(r, r.int(), "con_4 cols")
    stride_y = _positive(r, r.int(), "con_4 stride_y")
    stride_x = _positive(r, r.int(), "con_4 stride_x")
    padding_y = _nonneg(r, r.int(), "con_4 padding_y")
    padding_x = _nonneg(r, r.int(), "con_4 padding_x")
    filters = _alias(r, "con_4 filters")
    biases = _alias(r, "con_4 biases")
    _multipliers(r, 4)
    n, k, fr, fc = filters
    if (n, fr, fc) != (num_filters, nr, nc) or k <= 0:
        raise r.fail(f"con_4 filter shape {filters} does not match {num_filters} filters of {nr}x{nc}")
    if biases != (1, num_filters, 1, 1):
        raise r.fail(f"con_4 bias shape {biases}, expected (1, {num_filters}, 1, 1)")
    wsize = n * k * fr * fc
    if flat.size != wsize + num_filters:
        raise r.fail(f"con_4 parameter tensor holds {flat.size} values, expected {wsize + num_filters}")
    return dict(
        num_filters=num_filters, nr=nr, nc=nc, stride_y=stride_y, stride_x=stride_x,
        padding_y=padding_y, padding_x=padding_x,
        weight=flat[:wsize].reshape(filters).copy(), bias=flat[wsize:].copy(),
    )


def _affine(r: DlibReader) -> dict:
    flat = r.tensor().reshape(-1)
    gamma = _alias(r, "affine_ gamma")
    beta = _alias(r, "affine_ beta")
    mode = r.int()
    if mode not in (CONV_MODE, FC_MODE):
        raise r.fail(f"affine_ mode {mode}")
    if gamma != beta or gamma[0] != 1:
        raise r.fail(f"affine_ gamma {gamma} / beta {beta} shapes")
    size = int(np.prod(gamma))
    if flat.size != 2 * size:
        raise r.fail(f"affine_ parameter tensor holds {flat.size} values, expected {2 * size}")
    return dict(gamma=flat[:size].copy(), beta=flat[size:].copy(), mode="conv" if mode == CONV_MODE else "fc",
                shape=gamma[1:])


def _bn(r: DlibReader, kind: str) -> dict:
    flat = r.tensor().reshape(-1)
    gamma = _alias(r, f"{kind} gamma")
    beta = _alias(r, f"{kind} beta")
    r.tensor()  # means of the last training batch
    r.tensor()  # their inverse standard deviations
    running_mean = r.tensor().reshape(-1)
    running_var = r.tensor().reshape(-1)
    _nonneg(r, r.int(), f"{kind} num_updates")
    _nonneg(r, r.int(), f"{kind} running_stats_window_size")
    _multipliers(r, 4)
    eps = r.float()
    if gamma != beta or gamma[0] != 1:
        raise r.fail(f"{kind} gamma {gamma} / beta {beta} shapes")
    size = int(np.prod(gamma))
    if flat.size != 2 * size or running_mean.size != size or running_var.size != size:
        raise r.fail(f"{kind} parameter sizes {flat.size}, {running_mean.size}, {running_var.size} "
                     f"do not match {size} channels")
    if not eps > 0:
        raise r.fail(f"{kind} eps {eps}")
    return dict(gamma=flat[:size].copy(), beta=flat[size:].copy(),
                running_mean=running_mean.copy(), running_var=running_var.copy(), eps=eps, shape=gamma[1:])


def _pool(r: DlibReader, kind: str) -> dict:
    nr = _nonneg(r, r.int(), f"{kind} rows")  # 0 = the whole input
    nc = _nonneg(r, r.int(), f"{kind} cols")
    stride_y = _positive(r, r.int(), f"{kind} stride_y")
    stride_x = _positive(r, r.int(), f"{kind} stride_x")
    padding_y = _nonneg(r, r.int(), f"{kind} padding_y")
    padding_x = _nonneg(r, r.int(), f"{kind} padding_x")
    return dict(nr=nr, nc=nc, stride_y=stride_y, stride_x=stride_x, padding_y=padding_y, padding_x=padding_x)


def _fc_2(r: DlibReader) -> dict:
    num_outputs = _positive(r, r.int(), "fc_2 num_outputs")
    num_inputs = _positive(r, r.int(), "fc_2 num_inputs")
    flat = r.tensor().reshape(-1)
    weights = _alias(r, "fc_2 weights")
    biases = _alias(r, "fc_2 biases")
    bias_mode = r.int()  # 0 = has bias, 1 = no bias
    _multipliers(r, 4)
    if bias_mode not in (0, 1):
        raise r.fail(f"fc_2 bias mode {bias_mode}")
    if weights != (num_inputs, num_outputs, 1, 1):
        raise r.fail(f"fc_2 weight shape {weights}, expected ({num_inputs}, {num_outputs}, 1, 1)")
    wsize = num_inputs * num_outputs
    has_bias = bias_mode == 0
    if has_bias and biases != (1, num_outputs, 1, 1):
        raise r.fail(f"fc_2 bias shape {biases}, expected (1, {num_outputs}, 1, 1)")
    expected = wsize + (num_outputs if has_bias else 0)
    if flat.size != expected:
        raise r.fail(f"fc_2 parameter tensor holds {flat.size} values, expected {expected}")
    weight = np.ascontiguousarray(flat[:wsize].reshape(num_inputs, num_outputs).T)
    bias = flat[wsize:].copy() if has_bias else None
    return dict(num_outputs=num_outputs, num_inputs=num_inputs, weight=weight, bias=bias)


_READERS: dict[str, Callable[[DlibReader], dict]] = {
    "con_4": _con_4,
    "affine_": _affine,
    "bn_con2": lambda r: _bn(r, "bn_con2"),
    "bn_fc2": lambda r: _bn(r, "bn_fc2"),
    "relu_": lambda r: {},
    "add_prev_": lambda r: {},
    "max_pool_2": lambda r: _pool(r, "max_pool_2"),
    "avg_pool_2": lambda r: _pool(r, "avg_pool_2"),
    "fc_2": _fc_2,
}


def _layer(r: DlibReader, on_input: bool) -> Layer:
    kind = r.string(max_len=64)
    reader = _READERS.get(kind)
    if reader is None:
        raise r.fail(f"unknown layer record {kind!r}")
    layer = Layer(kind, reader(r))
    for _ in range(3):  # setup called, gradient stale, output/gradient disabled
        r.bool()
    for _ in range(3):  # x_grad, cached_output, params_grad (or grad_final): training state
        r.tensor()
    if on_input:
        _positive(r, r.int(), "sample expansion factor")
    return layer


# -- the network -------------------------------------------------------------------------------
def read_network(
    path: str | os.PathLike,
    *,
    loss_name: str,
    read_loss: Callable[[DlibReader], dict],
    input_name: str,
    read_input: Callable[[DlibReader], dict],
) -> DlibNet:
    """Parse a dlib network file whose loss record is ``loss_name`` and input record ``input_name``.

    ``read_loss`` / ``read_input`` read the fields after those names. Raises ModelFileError naming the
    file on anything unexpected (wrong file, damaged or truncated bytes, trailing bytes).
    """
    r = DlibReader.open(path)
    try:
        r.expect_int(1, "loss layer version")
        r.expect_string(loss_name, "loss layer")
        loss = read_loss(r)
        versions: list[int] = []
        while True:
            v = r.int()
            if v not in (ORDINARY, TAG_OR_SKIP, ON_INPUT):
                raise r.fail(f"bad layer version {v}")
            versions.append(v)
            if v == ON_INPUT:
                break
            if len(versions) > 100_000:
                raise r.fail("no input layer found")
        r.expect_string(input_name, "input layer")
        input_ = read_input(r)
        n_ordinary = sum(v != TAG_OR_SKIP for v in versions)
        layers = [_layer(r, on_input=(i == 0)) for i in range(n_ordinary)]
        if not r.at_end:
            raise r.fail(f"{len(r.data) - r.pos} unexpected bytes after the last layer")
    except ModelFileError:
        raise
    except (ValueError, OverflowError, MemoryError) as exc:  # e.g. absurd sizes in a damaged file
        raise r.fail(f"unreadable value ({exc})") from exc
    return DlibNet(loss=loss, versions=versions, input=input_, layers=layers)
