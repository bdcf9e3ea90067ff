"""Calibrated same-person thresholds of the built-in encoders, read from ``data/thresholds.json``.

That file records how each value was produced (command, pair set, date); a value marked
``provisional`` is a guess that ``facereid eval`` has not calibrated yet. Families put these
values on their cards; everything else reads the cards.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("facereid_engine").joinpath("data/thresholds.json").read_text("utf-8")
    return json.loads(text)


def calibrated_thresholds(encoder: str) -> dict[str, tuple[float, bool]]:
    """``{distance: (value, provisional)}`` recorded for ``encoder`` (empty when none is)."""
    entries = _table().get("thresholds", {}).get(encoder, {})
    return {distance: (float(e["value"]), bool(e.get("provisional", False))) for distance, e in entries.items()}


def calibrated_value(encoder: str, key: str, default: float) -> float:
    """Another calibrated number of ``encoder`` (a fused encoder's weight, say), or ``default``."""
    return float(_table().get("parameters", {}).get(encoder, {}).get(key, {}).get("value", default))
