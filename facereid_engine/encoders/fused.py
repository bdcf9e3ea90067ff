"""The ``fused`` encoder: dlib and SFace together, for the accuracy neither reaches alone.

Its vector is ``[sqrt(w) * dlib / |dlib|, sqrt(1 - w) * sface / |sface|]``: unit length, and its cosine
similarity is ``w * cos_dlib + (1 - w) * cos_sface``, so every distance, album and trained head works
on it unchanged. Each model keeps its own alignment: a fused chip stacks dlib's 150x150 chip (from
dlib's landmarks) above SFace's 112x112 chip (from YuNet's keypoints when YuNet found the face, else
from dlib's landmarks fitted to SFace's template), the latter centred in a 150-wide band so that
mirroring the stack mirrors both chips. The default encoder since it reached 99.5% on LFW.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .base import Encoder
from .calibration import calibrated_thresholds, calibrated_value
from .dlib_resnet import CHIP_SIZE as DLIB_SIZE, EMBEDDING_DIM as DLIB_DIM
from .registry import EncoderCard, EncoderFamily, card, get_encoder, register_family
from .sface.align import CHIP_SIZE as SFACE_SIZE
from .sface.net import EMBEDDING_DIM as SFACE_DIM

NAME = "fused"
#: dlib's share of the cosine when data/thresholds.json gives none; the calibrated one is chosen on LFW
#: View 1 pairsDevTrain.txt by benchmarks/choose_fused_weight.py (0.82).
DEFAULT_WEIGHT = 0.5
_MARGIN = (DLIB_SIZE - SFACE_SIZE) // 2


def fused_weight() -> float:
    return calibrated_value(NAME, "dlib_weight", DEFAULT_WEIGHT)


class FusedEncoder(Encoder):
    """dlib + SFace: 256-D, unit length, cosine = weighted mean of the two models' cosines."""

    name = NAME
    dim = DLIB_DIM + SFACE_DIM
    chip_size = DLIB_SIZE
    description = ("dlib's ResNet and SFace fused: both L2-normalised, weighted and concatenated (256-D), "
                   "so the cosine is the weighted mean of the two cosines; each model aligned its own way")
    licence = "dlib's model: public domain; SFace: Apache-2.0 (OpenCV Zoo), training data under research terms"

    def __init__(self, device: torch.device, weight: float | None = None):
        self.weight = fused_weight() if weight is None else float(weight)
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the fused weight must lie in [0, 1], not {self.weight}")
        self.cache_key = f"{NAME}@w{self.weight:g}"  # cached vectors of another weight are not these
        self.dlib = get_encoder("dlib", device=device)
        self.sface = get_encoder("sface", device=device)

    def chips(self, image: np.ndarray, faces: Sequence) -> np.ndarray:
        stacked = np.zeros((len(faces), DLIB_SIZE + SFACE_SIZE, DLIB_SIZE, 3), dtype=np.uint8)
        stacked[:, :DLIB_SIZE] = self.dlib.chips(image, faces)
        stacked[:, DLIB_SIZE:, _MARGIN:_MARGIN + SFACE_SIZE] = self.sface.chips(image, faces)
        return stacked

    def embed(self, chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        expected = (DLIB_SIZE + SFACE_SIZE, DLIB_SIZE, 3)
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != expected:
            raise ValueError(f"fused chips must be uint8 (N, {expected[0]}, {expected[1]}, 3), got "
                             f"{chips.dtype} {chips.shape}")
        a = _unit(self.dlib.embed(np.ascontiguousarray(chips[:, :DLIB_SIZE])))
        b = _unit(self.sface.embed(np.ascontiguousarray(chips[:, DLIB_SIZE:, _MARGIN:_MARGIN + SFACE_SIZE])))
        return np.hstack([math.sqrt(self.weight) * a, math.sqrt(1.0 - self.weight) * b]).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class FusedFamily(EncoderFamily):
    name = "fused"

    def names(self) -> list[str]:
        return [NAME]

    def card(self, name: str) -> EncoderCard:
        parts = [card("dlib"), card("sface")]
        missing = "; ".join(c.unavailable for c in parts if c.unavailable)
        return EncoderCard(
            name=name, family=self.name, dim=FusedEncoder.dim, chip_size=DLIB_SIZE,
            alignment="each part its own: dlib's chip from dlib's landmarks, SFace's from YuNet's keypoints",
            description=f"{FusedEncoder.description}; dlib's weight {fused_weight():g}",
            licence=FusedEncoder.licence, source=" + ".join(c.source for c in parts),
            thresholds=calibrated_thresholds(name), unavailable=missing)

    def load(self, name: str, device: torch.device) -> Encoder:
        return FusedEncoder(device)


register_family(FusedFamily())
