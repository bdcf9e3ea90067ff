"""The registry of encoder families: names, cards readable without weights, and loading.

A *family* (dlib, imagenet, trained, ...) lists the encoder names it provides, describes each one
with an :class:`EncoderCard` (no weight is read to make a card) and builds an encoder on a device.
Families register themselves with :func:`register_family`; the built-in ones are named in
``facereid_engine.ENCODER_FAMILY_MODULES`` and imported on first use of the registry, so this
module depends on none of them. Loaded encoders are cached per (name, device).
"""
from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch

from ..defaults import DEFAULT_ENCODER
from ..device import best_device
from ..errors import UnknownNameError
from .base import Encoder


# Used for a distance that a card has no calibrated threshold for (marked provisional).
FALLBACK_THRESHOLDS = {"euclidean": 0.6, "euclidean_l2": 0.45, "cosine": 0.1}


@dataclass(frozen=True)
class EncoderCard:
    """What an encoder is, read without loading it.

    ``thresholds`` maps a distance name to ``(value, provisional)``; ``unavailable`` says why the
    encoder cannot be loaded here (its weights are missing, say), empty when it can.
    """

    name: str
    family: str
    dim: int
    chip_size: int
    alignment: str
    description: str
    licence: str
    source: str
    thresholds: dict[str, tuple[float, bool]] = field(default_factory=dict)
    chip_padding: float = 0.25
    unavailable: str = ""

    @property
    def available(self) -> bool:
        return not self.unavailable

    def threshold(self, distance: str) -> tuple[float, bool]:
        """(value, provisional) for ``distance`` (a canonical distance name)."""
        if distance in self.thresholds:
            value, provisional = self.thresholds[distance]
            return float(value), bool(provisional)
        return FALLBACK_THRESHOLDS[distance], True


class EncoderFamily(ABC):
    """A set of encoder names that one module knows how to describe and build."""

    name: str = ""

    @abstractmethod
    def names(self) -> list[str]:
        """The encoder names this family provides now, in display order."""

    @abstractmethod
    def card(self, name: str) -> EncoderCard:
        """The card of ``name`` (one of :meth:`names`), without loading weights."""

    @abstractmethod
    def load(self, name: str, device: torch.device) -> Encoder:
        """Build the encoder ``name`` on ``device`` (the registry caches the result)."""

    def provides(self, name: str) -> bool:
        return name in self.names()


_families: dict[str, EncoderFamily] = {}
_cache: dict[tuple[str, str], Encoder] = {}
_lock = threading.RLock()  # a trained encoder loads its base through get_encoder
_builtins_loaded = False
_loading_builtins = False


def register_family(family: EncoderFamily) -> EncoderFamily:
    """Add (or replace, by family name) a family; returns it."""
    if not family.name:
        raise ValueError("an encoder family needs a name")
    if not _loading_builtins:
        _ensure_builtins()  # built-in families first, whoever registers first
    with _lock:
        _families[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family and forget its loaded encoders (tests use this to clean up)."""
    with _lock:
        family = _families.pop(name, None)
        if family is not None:
            for key in [k for k in _cache if family.provides(k[0])]:
                del _cache[key]


def _ensure_builtins() -> None:
    global _builtins_loaded, _loading_builtins
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded or _loading_builtins:
            return
        import facereid_engine

        _loading_builtins = True
        try:
            for module in facereid_engine.ENCODER_FAMILY_MODULES:
                importlib.import_module(module)
        finally:
            _loading_builtins = False
        _builtins_loaded = True


def families() -> list[EncoderFamily]:
    """The registered families: the built-in ones in ``ENCODER_FAMILY_MODULES`` order, then the others
    in the order they registered."""
    _ensure_builtins()
    import facereid_engine

    order = {module: i for i, module in enumerate(facereid_engine.ENCODER_FAMILY_MODULES)}
    with _lock:
        registered = list(_families.values())
    return sorted(registered, key=lambda f: order.get(type(f).__module__, len(order)))


def family_of(name: str) -> EncoderFamily:
    """The family providing ``name``; UnknownNameError listing the choices otherwise."""
    for family in families():
        if family.provides(name):
            return family
    raise UnknownNameError(f"unknown encoder {name!r}: choose one of {', '.join(available_encoders())}")


def available_encoders() -> list[str]:
    """Every encoder name that :func:`get_encoder` accepts, family by family."""
    return [name for family in families() for name in family.names()]


def card(name: str) -> EncoderCard:
    """The card of encoder ``name``."""
    name = str(name).strip()
    return family_of(name).card(name)


def cards() -> list[EncoderCard]:
    """Every encoder's card, in :func:`available_encoders` order."""
    return [family.card(name) for family in families() for name in family.names()]


def get_encoder(name: str = DEFAULT_ENCODER, device: torch.device | str | None = None) -> Encoder:
    """The encoder called ``name`` (loaded on first use, then cached per device)."""

    name = str(name).strip()
    dev = torch.device(device) if device is not None else best_device()
    key = (name, str(dev))
    with _lock:
        if key not in _cache:
            _cache[key] = family_of(name).load(name, dev)
        return _cache[key]


def forget_encoder(name: str) -> None:
    """Drop ``name`` from the cache (after a trained model is overwritten or deleted)."""
    with _lock:
        for key in [k for k in _cache if k[0] == name]:
            del _cache[key]
