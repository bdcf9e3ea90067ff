"""The registry of named encoders.

Built in: ``dlib`` (the default: dlib's face-trained ResNet, 128-D) and the original study's five
ImageNet encoders (``densenet``, ``googlenet``, ``resnet``, ``squeezenet``, ``vgg``). Models the user
trained appear as ``<base>+<name>``. Encoders are loaded once per (name, device) and cached.
"""
from __future__ import annotations

import threading

import torch

from ..errors import UnknownNameError
from .base import Encoder

DEFAULT_ENCODER = "dlib"
IMAGENET_ENCODERS = ("densenet", "googlenet", "resnet", "squeezenet", "vgg")
BUILTIN_ENCODERS = (DEFAULT_ENCODER, *IMAGENET_ENCODERS)

_cache: dict[tuple[str, str], Encoder] = {}
_lock = threading.RLock()  # a trained encoder loads its base through get_encoder


def trained_encoders() -> list[str]:
    """Names of the encoders the user trained (``<base>+<name>``), if the training module is present."""
    try:
        from ..training.store import list_trained
    except ImportError:
        return []
    return list_trained()


def available_encoders() -> list[str]:
    """Every encoder name that :func:`get_encoder` accepts, built-in first."""
    return [*BUILTIN_ENCODERS, *trained_encoders()]


def _load(name: str, device: torch.device | None) -> Encoder:
    if name == DEFAULT_ENCODER:
        from .dlib_resnet import load_dlib_encoder
        return load_dlib_encoder(device=device)
    if name in IMAGENET_ENCODERS:
        from .imagenet import load_imagenet_encoder
        return load_imagenet_encoder(name, device=device)
    if "+" in name:
        from ..training.store import load_trained_encoder
        return load_trained_encoder(name, device=device)
    raise UnknownNameError(f"unknown encoder {name!r}: choose one of {', '.join(available_encoders())}")


def get_encoder(name: str = DEFAULT_ENCODER, device: torch.device | str | None = None) -> Encoder:
    """The encoder called ``name`` (loaded on first use, then cached)."""
    name = str(name).strip()
    dev = torch.device(device) if device is not None else None
    key = (name, str(dev))
    with _lock:
        if key not in _cache:
            _cache[key] = _load(name, dev)
        return _cache[key]


def forget_encoder(name: str) -> None:
    """Drop ``name`` from the cache (after a trained model is overwritten or deleted)."""
    with _lock:
        for key in [k for k in _cache if k[0] == name]:
            del _cache[key]


__all__ = ["forget_encoder", "Encoder", "get_encoder", "available_encoders", "DEFAULT_ENCODER", "BUILTIN_ENCODERS",
           "IMAGENET_ENCODERS"]
