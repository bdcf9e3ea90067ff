"""The original study's five ImageNet encoders: torchvision CNNs, flattened convolutional features as embeddings.

As in the study, each network is cut before its classifier (``children()[:-1]``) and the output
flattened: ``densenet`` and ``squeezenet`` are ``model.features(x)`` (DenseNet without the ReLU its
``forward`` applies afterwards, because the study's cut left it out), ``vgg`` is ``features`` and the
7x7 adaptive pool (the identity at 224x224), ``resnet`` and ``googlenet`` are everything up to and
including the global average pool. The input is the 224x224 aligned face chip, normalised the way
the weights expect: ImageNet mean/std, and for GoogLeNet the (x - 0.5) / 0.5 its torchvision
``transform_input`` produces from that (the study skipped both; its features came from raw [0, 1]).
Each batch-norm layer that directly follows a convolution is folded into it (exact in real numbers).

Weights are torchvision's ImageNet-1k V1 files, looked for by their torchvision file name in an
explicit path, ``$FACEREID_WEIGHTS_DIR``, then torch's hub cache; otherwise downloaded once into the
hub cache where the network allows, else :class:`ModelUnavailableError` says which file to put where.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import WeightsEnum
from torchvision.models.densenet import _DenseLayer
from torchvision.models.googlenet import BasicConv2d
from torchvision.models.resnet import Bottleneck

from ..device import best_device
from ..errors import ModelFileError, ModelUnavailableError, UnknownNameError
from .base import Encoder
from .calibration import calibrated_thresholds
from .registry import EncoderCard, EncoderFamily, register_family

CHIP_SIZE = 224
RANDOM_SEED = 0
DOWNLOAD_TIMEOUT_S = 5.0
WEIGHTS_DIR_ENV = "FACEREID_WEIGHTS_DIR"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LICENCE = ("torchvision code: BSD-3-Clause. Weights: torchvision's ImageNet-1k weights; torchvision's docs "
           "say pre-trained weights may carry their own licence or terms derived from the training data "
           "(ImageNet's terms are non-commercial research use): check they fit your use.")


@dataclass(frozen=True)
class _Spec:
    architecture: str
    weights: WeightsEnum
    build: Callable[[], nn.Module]  # the torchvision model, weights not loaded
    body: Callable[[nn.Module], nn.Module]  # the study's cut: everything before the classifier
    dim: int  # flattened length at 224x224
    cut: str  # words for the description
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


def _all_but_last(model: nn.Module) -> nn.Module:
    return nn.Sequential(*list(model.children())[:-1])  # children() skips GoogLeNet's absent aux heads


_SPECS: dict[str, _Spec] = {
    "densenet": _Spec("DenseNet-121", tvm.DenseNet121_Weights.IMAGENET1K_V1, lambda: tvm.densenet121(weights=None),
                      lambda m: m.features, 1024 * 7 * 7, "features (1024x7x7, before the final ReLU)"),
    "googlenet": _Spec("GoogLeNet (Inception v1)", tvm.GoogLeNet_Weights.IMAGENET1K_V1,
                       lambda: tvm.googlenet(weights=None, aux_logits=False, transform_input=False,
                                             init_weights=True),
                       _all_but_last, 1024, "global-average-pooled features (1024)",
                       mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    "resnet": _Spec("ResNet-50", tvm.ResNet50_Weights.IMAGENET1K_V1, lambda: tvm.resnet50(weights=None),
                    _all_but_last, 2048, "global-average-pooled features (2048)"),
    "squeezenet": _Spec("SqueezeNet 1.0", tvm.SqueezeNet1_0_Weights.IMAGENET1K_V1,
                        lambda: tvm.squeezenet1_0(weights=None), lambda m: m.features, 512 * 13 * 13,
                        "features (512x13x13)"),
    "vgg": _Spec("VGG-16", tvm.VGG16_Weights.IMAGENET1K_V1, lambda: tvm.vgg16(weights=None),
                 _all_but_last, 512 * 7 * 7, "features (512x7x7)"),
}


IMAGENET_ENCODERS = tuple(_SPECS)


def _spec(name: str) -> _Spec:
    if name not in _SPECS:
        raise UnknownNameError(f"unknown ImageNet encoder {name!r}: choose one of {', '.join(IMAGENET_ENCODERS)}")
    return _SPECS[name]


def weights_url(name: str) -> str:
    """Where torchvision publishes the encoder's ImageNet weights."""
    return _spec(name).weights.url


def weights_filename(name: str) -> str:
    """torchvision's file name of the encoder's ImageNet weights (e.g. ``resnet50-0676ba61.pth``)."""
    return weights_url(name).rsplit("/", 1)[-1]


def hub_checkpoints_dir() -> Path:
    """torch's hub cache for weight files (where torchvision downloads them)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


# -- weights -----------------------------------------------------------------------------------
def _find_weights(name: str, weights_path: str | os.PathLike | None) -> Path | None:
    filename = weights_filename(name)
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        path = path / filename if path.is_dir() else path
        if not path.is_file():
            raise ModelUnavailableError(f"{path}: weights file not found (the {name!r} encoder needs {filename}, "
                                        f"from {weights_url(name)})")
        return path
    folders = [Path(os.environ[WEIGHTS_DIR_ENV]).expanduser()] if os.environ.get(WEIGHTS_DIR_ENV) else []
    folders.append(hub_checkpoints_dir())
    return next((folder / filename for folder in folders if (folder / filename).is_file()), None)


_download_lock = threading.Lock()


def download_weights(url: str, folder: str | os.PathLike, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``url`` into ``folder`` (checked against the hash in torchvision's file name).

    Each network operation gives up after ``timeout`` seconds, so an offline machine fails fast.
    Raises ModelUnavailableError with the cause.
    """
    filename = url.rsplit("/", 1)[-1]
    target = Path(folder) / filename
    match = re.search(r"-([a-f0-9]{6,})\.", filename)
    with _download_lock:  # the socket timeout is process-wide: one download at a time
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(timeout)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(target), hash_prefix=match.group(1) if match else None,
                                           progress=False)
        except Exception as exc:
            raise ModelUnavailableError(f"could not download {url}: {exc}") from None
        finally:
            socket.setdefaulttimeout(old)
    return target


def _missing_message(name: str, cause: str) -> str:
    env = os.environ.get(WEIGHTS_DIR_ENV)
    where = f"${WEIGHTS_DIR_ENV} ({env})" if env else f"a folder named by ${WEIGHTS_DIR_ENV}"
    return (f"the {name!r} encoder ({_spec(name).architecture}) needs torchvision's ImageNet weights file "
            f"{weights_filename(name)} ({cause}). Download {weights_url(name)} and put it in {where} "
            f"or in torch's cache folder {hub_checkpoints_dir()}")


_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def _state_dict(name: str, path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors, keyed as today's torchvision modules expect."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelFileError(path, f"not a readable PyTorch weights file ({exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(path, "not a PyTorch state dict (a mapping of names to tensors)")
    if name == "densenet":  # the file predates torchvision's module names: norm.1 -> norm1
        state = {_DENSENET_OLD_KEY.sub(r"\1\2", k): v for k, v in state.items()}
    if name == "googlenet":  # the auxiliary classifiers are only used in training
        state = {k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))}
    return state


def _load_model(name: str, path: Path) -> nn.Module:
    spec = _spec(name)
    state = _state_dict(name, path)
    with torch.device("meta"):  # no memory and no random initialisation for weights about to be replaced
        model = spec.build()
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).split("\n")[:3]
        raise ModelFileError(path, f"not torchvision's {spec.architecture} weights: {' '.join(first)}") from None
    leftover = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if leftover:
        raise ModelFileError(path, f"not torchvision's {spec.architecture} weights: no values for {leftover[:3]}")
    return model


def _random_model(name: str) -> nn.Module:
    """The architecture with torchvision's random initialisation, seeded so every call is the same."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return _spec(name).build()


# -- folding -----------------------------------------------------------------------------------
def _fold(parent: nn.Module, conv_name: str, bn_name: str) -> None:
    conv, bn = getattr(parent, conv_name), getattr(parent, bn_name)
    if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
        setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
        setattr(parent, bn_name, nn.Identity())


def fold_batchnorm(name: str, body: nn.Module) -> nn.Module:
    """Fold each batch norm that directly follows a convolution into it (eval mode), in place."""
    body.eval()
    for module in body.modules():
        if isinstance(module, Bottleneck):
            for i in (1, 2, 3):
                _fold(module, f"conv{i}", f"bn{i}")
            if module.downsample is not None:
                _fold(module.downsample, "0", "1")
        elif isinstance(module, BasicConv2d):
            _fold(module, "conv", "bn")
        elif isinstance(module, _DenseLayer):
            _fold(module, "conv1", "norm2")  # norm1 comes before its ReLU and convolution: not foldable
    if name == "resnet":
        _fold(body, "0", "1")  # conv1, bn1
    if name == "densenet":
        _fold(body, "conv0", "norm0")
    return body


# -- the encoder -------------------------------------------------------------------------------
class _Features(nn.Module):
    """uint8 (N, H, W, 3) RGB -> normalised 224x224 -> the study's cut -> flattened (N, dim)."""

    def __init__(self, body: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.body = body
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        x = chips.permute(0, 3, 1, 2).float()
        if x.shape[-2:] != (CHIP_SIZE, CHIP_SIZE):
            x = F.interpolate(x, size=(CHIP_SIZE, CHIP_SIZE), mode="bilinear", align_corners=False, antialias=True)
        x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        return torch.flatten(self.body(x), 1)


class ImageNetEncoder(Encoder):
    """One of the study's torchvision ImageNet encoders (see the module's docstring for the cut)."""

    chip_size = CHIP_SIZE
    chip_padding = 0.25

    def __init__(self, name: str, model: nn.Module, *, random_weights: bool, weights_file: Path | None,
                 device: torch.device, batch_size: int | None = None):
        spec = _spec(name)
        self.name = name
        self.architecture = spec.architecture
        self.dim = spec.dim
        self.random_weights = random_weights
        self.weights_file = weights_file
        self.device = device
        self.batch_size = batch_size or (128 if device.type == "cuda" else 16)
        body = fold_batchnorm(name, spec.body(model).eval())
        self.model = _Features(body, spec.mean, spec.std).eval().to(device).to(memory_format=torch.channels_last)
        origin = (f"RANDOMLY INITIALISED weights (seed {RANDOM_SEED}), for tests only: the vectors mean nothing"
                  if random_weights else f"torchvision's ImageNet-1k weights ({weights_filename(name)})")
        self.description = _description(name, origin)
        self.licence = LICENCE

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """uint8 (N, 224, 224, 3) RGB chips (other sizes are resized) -> float32 (N, dim)."""
        chips = np.asarray(chips)
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[-1] != 3:
            raise ValueError(f"chips must be uint8 (N, {CHIP_SIZE}, {CHIP_SIZE}, 3), got {chips.dtype} {chips.shape}")
        out = np.empty((len(chips), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(chips), self.batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(chips[start:start + self.batch_size]))
                out[start:start + len(batch)] = self.model(batch.to(self.device)).float().cpu().numpy()
        return out


def load_imagenet_encoder(name: str, *, weights: str = "imagenet", weights_path: str | os.PathLike | None = None,
                          device: torch.device | str | None = None, download: bool = True) -> ImageNetEncoder:
    """The study's encoder ``name`` with ImageNet weights (or ``weights="random"``, for tests).

    ``weights_path`` is the weights file, or a folder holding it under torchvision's name. Without it,
    ``$FACEREID_WEIGHTS_DIR`` then torch's hub cache are searched, then (``download=True``) one quick
    download attempt into the hub cache. Raises ModelUnavailableError naming the file needed and
    where to put it, ModelFileError for a file that is not the right weights.
    """
    _spec(name)
    dev = torch.device(device) if device is not None else best_device()
    if weights == "random":
        return ImageNetEncoder(name, _random_model(name), random_weights=True, weights_file=None, device=dev)
    if weights != "imagenet":
        raise ValueError(f"weights must be 'imagenet' or 'random', not {weights!r}")
    path = _find_weights(name, weights_path)
    if path is None:
        if not download:
            raise ModelUnavailableError(_missing_message(name, "not found, and downloading is off"))
        try:
            path = download_weights(weights_url(name), hub_checkpoints_dir())
        except ModelUnavailableError as exc:
            raise ModelUnavailableError(_missing_message(name, f"not found; {exc}")) from None
    return ImageNetEncoder(name, _load_model(name, path), random_weights=False, weights_file=path, device=dev)


def _description(name: str, origin: str) -> str:
    spec = _spec(name)
    return (f"{spec.architecture} trained on ImageNet (not on faces), the original study's {name!r} encoder: "
            f"224x224 aligned chip -> {spec.cut}, flattened to {spec.dim}-D; {origin}.")


class ImageNetFamily(EncoderFamily):
    """The original study's five ImageNet CNNs; their weights are torchvision's files, when present."""

    name = "imagenet"

    def names(self) -> list[str]:
        return list(IMAGENET_ENCODERS)

    def card(self, name: str) -> EncoderCard:
        spec = _spec(name)
        try:
            found = _find_weights(name, None)
        except ModelUnavailableError as exc:
            found, missing = None, str(exc)
        else:
            missing = "" if found else _missing_message(name, "not found")
        return EncoderCard(
            name=name, family=self.name, dim=spec.dim, chip_size=CHIP_SIZE, chip_padding=0.25,
            alignment="dlib's 5-point landmarks fitted to dlib's template, padding 0.25, at 224x224",
            description=_description(name, f"torchvision's ImageNet-1k weights ({weights_filename(name)})"),
            licence=LICENCE, source=f"{weights_url(name)} (torchvision)",
            thresholds=calibrated_thresholds(name), unavailable=missing)

    def load(self, name: str, device: torch.device) -> Encoder:
        return load_imagenet_encoder(name, device=device)


register_family(ImageNetFamily())

__all__ = ["IMAGENET_ENCODERS", "ImageNetFamily", "ImageNetEncoder", "load_imagenet_encoder", "weights_filename", "weights_url",
           "hub_checkpoints_dir", "download_weights", "fold_batchnorm"]
