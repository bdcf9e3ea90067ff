"""Read ``mmod_human_face_detector.dat``: the loss options, the input layer and the seven convolutions.

The layer records come from :mod:`facereid_engine.dlib.layers`; this module reads the two records
that are particular to the MMOD network (``loss_mmod_`` options and ``input_rgb_image_pyramid``)
and checks the layer sequence against the detector's architecture (docs/dlib-models.md in the repository).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..dlib.format import DlibReader
from ..dlib.layers import DlibNet, read_network
from ..errors import ModelFileError

MODEL_FILENAME = "mmod_human_face_detector.dat"

# From the output side to the input side: con, then 3 x (relu, bn, con) at stride 1, then the
# 3 x (relu, bn, con) downsampler; the con on the input layer carries version 3.
EXPECTED_VERSIONS = [2] * 18 + [3]
EXPECTED_KINDS = ["con_4", "bn_con2", "relu_"] * 6 + ["con_4"]


@dataclass(frozen=True)
class Window:
    width: int
    height: int
    label: str = ""


@dataclass(frozen=True)
class MMODOptions:
    """The parts of dlib's ``mmod_options`` that inference uses (plus the rest, for completeness)."""

    windows: tuple[Window, ...]
    loss_per_false_alarm: float
    loss_per_missed_target: float
    truth_match_iou_threshold: float
    nms_iou: float
    nms_percent_covered: float
    ignore_iou: float
    ignore_percent_covered: float
    assume_image_pyramid: bool = True
    use_bounding_box_regression: bool = False
    bbr_lambda: float = 100.0


@dataclass(frozen=True)
class PyramidInput:
    """``input_rgb_image_pyramid<pyramid_down<N>>``: channel means and the tiling paddings."""

    means: tuple[float, float, float]  # float32 values, red, green, blue
    padding: int
    outer_padding: int


@dataclass(frozen=True)
class ConvSpec:
    weight: np.ndarray  # float32 (out, in, kh, kw), batch-norm folded in
    bias: np.ndarray  # float32 (out,)
    stride: int
    padding: int
    relu: bool


def _window(r: DlibReader) -> Window:
    version = r.int()
    if version not in (1, 2):
        raise r.fail(f"detector window version {version}")
    width, height = r.int(), r.int()
    label = r.string() if version == 2 else ""
    return Window(width, height, label)


def read_mmod_options(r: DlibReader) -> dict:
    """The fields of ``serialize(mmod_options)`` (versions 1 to 4)."""
    version = r.int()
    if not 1 <= version <= 4:
        raise r.fail(f"mmod_options version {version}")
    if version == 1:
        windows = [Window(r.int(), r.int())]
    else:
        count = r.int()
        if not 0 < count < 10_000:
            raise r.fail(f"bad number of detector windows {count}")
        windows = [_window(r) for _ in range(count)]
    fields = dict(
        windows=tuple(windows),
        loss_per_false_alarm=r.float(),
        loss_per_missed_target=r.float(),
        truth_match_iou_threshold=r.float(),
        nms_iou=r.float(),
        nms_percent_covered=r.float(),
        ignore_iou=r.float(),
        ignore_percent_covered=r.float(),
    )
    if version >= 3:
        fields["assume_image_pyramid"] = r.int() == 1
    if version >= 4:
        fields["use_bounding_box_regression"] = r.bool()
        fields["bbr_lambda"] = r.float()
    for w in windows:
        if w.width <= 0 or w.height <= 0:
            raise r.fail(f"bad detector window {w.width}x{w.height}")
    return fields


def read_pyramid_input(r: DlibReader) -> dict:
    """The fields after the name ``input_rgb_image_pyramid``: three float means (old format).

    The newer record ``input_rgb_image_pyramid2`` adds the two paddings; the old one implies 10 / 11.
    """
    means = tuple(float(np.float32(r.float())) for _ in range(3))
    return dict(means=means, padding=10, outer_padding=11)


def _fold(conv: dict, bn: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """Fold dlib's inference batch-norm into the conv before it, the way dlib turns a bn into an affine.

    dlib computes, in float32, g = gamma / sqrt(var + eps) and b = beta - g * mean.
    """
    w = conv["weight"].astype(np.float32)
    b = conv["bias"].astype(np.float32)
    if bn is None:
        return w, b
    eps = np.float32(bn["eps"])
    g = (bn["gamma"].astype(np.float32) / np.sqrt(bn["running_var"].astype(np.float32) + eps)).astype(np.float32)
    shift = (bn["beta"].astype(np.float32) - g * bn["running_mean"].astype(np.float32)).astype(np.float32)
    return (w * g[:, None, None, None]).astype(np.float32), (b * g + shift).astype(np.float32)


@dataclass(frozen=True)
class MMODModel:
    options: MMODOptions
    input: PyramidInput
    convs: tuple[ConvSpec, ...]
    pyramid_rate: int = 6  # pyramid_down<6>: each level 5/6 of the previous


def load_mmod_file(path: str | os.PathLike) -> MMODModel:
    """Parse and check the MMOD face detector file; raises ModelFileError on anything unexpected."""
    net: DlibNet = read_network(path, loss_name="loss_mmod_", read_loss=read_mmod_options,
                                input_name="input_rgb_image_pyramid", read_input=read_pyramid_input)
    kinds = [layer.kind for layer in net.layers]
    if net.versions != EXPECTED_VERSIONS or kinds != EXPECTED_KINDS:
        raise ModelFileError(path, f"not the MMOD face detector architecture (layers {kinds})")
    options = MMODOptions(**net.loss)
    if options.use_bounding_box_regression:
        raise ModelFileError(path, "bounding box regression is not supported")
    convs = []
    layers = net.layers
    for i in range(0, 18, 3):
        conv, bn = layers[i].params, layers[i + 1].params
        w, b = _fold(conv, bn)
        convs.append(ConvSpec(w, b, conv["stride_y"], conv["padding_y"], relu=True))
        _check_square(path, conv)
    last = layers[18].params
    _check_square(path, last)
    convs.append(ConvSpec(*_fold(last, None), last["stride_y"], last["padding_y"], relu=False))
    if convs[-1].weight.shape[0] != len(options.windows):
        raise ModelFileError(path, "the last convolution does not have one filter per detector window")
    return MMODModel(options=options, input=PyramidInput(**net.input), convs=tuple(convs))


def _check_square(path, conv: dict) -> None:
    if conv["stride_y"] != conv["stride_x"] or conv["padding_y"] != conv["padding_x"]:
        raise ModelFileError(path, "unexpected non-square convolution stride or padding")
