"""Default same-person thresholds per encoder and distance, read from the encoders' cards.

A built-in encoder's card takes its values from ``encoders/calibration.py`` (``data/thresholds.json``),
a trained model's from its own description; a distance without a calibrated value gets a
provisional fallback.
"""
from __future__ import annotations

from .distances import canonical_distance
from .encoders.registry import card


def default_threshold(encoder: str, distance: str) -> tuple[float, bool]:
    """(threshold, provisional) for ``encoder`` and ``distance``."""
    return card(encoder).threshold(canonical_distance(distance))
