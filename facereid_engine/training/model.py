"""A trained model as an :class:`~facereid_engine.encoders.Encoder` named ``<base>+<name>``.

- Metric head: ``embed(chips) = head(base.embed(chips))``, a real embedding for every distance, Compare
  and Albums; its thresholds were calibrated on the validation split.
- Pair classifier (and the study's concatenation classifier): the embedding is the base's, unchanged
  (so distances and thresholds are the base's), and :meth:`TrainedEncoder.pair_probability` /
  :meth:`TrainedEncoder.pair_distance` give the model's own decision on two embeddings.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..encoders.base import Encoder
from ..encoders.registry import get_encoder
from .heads import MetricHead, pair_logits

#: A pair classifier says "same person" when ``pair_distance = 1 - probability <= DECISION_THRESHOLD``.
DECISION_THRESHOLD = 0.5


def describe(info: dict) -> str:
    """Words for a trained model, from its description file."""
    what = {"metric": "metric head", "pair": "pair classifier",
            "concat": "concatenation classifier (the study's baseline)"}.get(info["method"], info["method"])
    data = info.get("data", {})
    return (f"{what} trained on {info['base']} embeddings of {data.get('source', '?')} "
            f"(validation accuracy {info.get('metrics', {}).get('val_accuracy', float('nan')):.4f})")


class TrainedEncoder(Encoder):
    """A head trained on a frozen base encoder."""

    def __init__(self, name: str, base: str, head: nn.Module, info: dict, weights_id: str, device=None):
        self.name = name
        self.base_name = base
        self.device = device
        self._base: Encoder | None = None
        self.head = head.eval()
        self.info = info
        self.method: str = info["method"]
        chip = info.get("base_chip", {})
        self.chip_size = int(chip.get("size", 150))
        self.chip_padding = float(chip.get("padding", 0.25))
        self.dim = head.out_dim if isinstance(head, MetricHead) else int(info["head"]["dim"])
        self.description = describe(info)
        self.licence = f"trained by you; the base encoder {base!r} keeps its own licence"
        # the embedding cache keys: a pair model's embeddings are its base's; a metric head's are its own
        self.cache_key = base if self.is_pair_classifier else name
        self.weights = None if self.is_pair_classifier else weights_id
        self.decision_threshold = DECISION_THRESHOLD

    @property
    def base(self) -> Encoder:
        """The frozen base encoder (loaded on first use, outside the registry's lock)."""
        if self._base is None:
            self._base = get_encoder(self.base_name, device=self.device)
        return self._base

    @property
    def is_pair_classifier(self) -> bool:
        return self.method in ("pair", "concat")

    def chips(self, image: np.ndarray, faces) -> np.ndarray:
        """The base's own chips: sface and fused align their own way (dlib's chip would not fit them)."""
        return self.base.chips(image, faces)

    def mirror(self, chips: np.ndarray) -> np.ndarray:
        return self.base.mirror(chips)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        vectors = self.base.embed(chips)
        if not isinstance(self.head, MetricHead):
            return vectors
        with torch.inference_mode():
            return self.head.embed(torch.from_numpy(np.asarray(vectors, dtype=np.float32))).numpy()


class TrainedPairEncoder(TrainedEncoder):
    """A trained pair classifier: the base's embeddings plus its own same-person decision."""

    def pair_probability(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Probability that rows ``a[i]`` and ``b[i]`` (this encoder's embeddings) are the same person."""
        return 1.0 / (1.0 + np.exp(-pair_logits(self.head, a, b)))

    def pair_distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``1 - pair_probability``: small for the same person, like a distance; the decision is ``<= 0.5``."""
        return 1.0 - self.pair_probability(a, b)


def trained_encoder(name: str, base: str, head: nn.Module, info: dict, weights_id: str,
                    device=None) -> TrainedEncoder:
    """The right encoder class for the head's method."""
    cls = TrainedEncoder if isinstance(head, MetricHead) else TrainedPairEncoder
    return cls(name, base, head, info, weights_id, device)
