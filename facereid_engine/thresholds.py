"""Default thresholds per encoder and distance, read from ``data/thresholds.json``.

That file records how each value was produced; values marked ``provisional`` are guesses that the
evaluation (``facereid eval``) has not calibrated yet.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .distances import canonical_distance

# Used only when neither the data file nor the encoder knows better.
_FALLBACK = {"euclidean": 0.6, "euclidean_l2": 0.45, "cosine": 0.1}


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("facereid_engine").joinpath("data/thresholds.json").read_text("utf-8")
    return json.loads(text)


def default_threshold(encoder: str, distance: str) -> tuple[float, bool]:
    """(threshold, provisional) for ``encoder`` and ``distance``."""
    distance = canonical_distance(distance)
    if "+" in encoder:  # a trained model keeps its thresholds with its weights
        from .training.store import trained_threshold
        return trained_threshold(encoder, distance)
    entry = _table().get("thresholds", {}).get(encoder, {}).get(distance)
    if entry is None:
        return _FALLBACK[distance], True
    return float(entry["value"]), bool(entry.get("provisional", False))
