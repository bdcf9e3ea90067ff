"""Distance histograms measured on LFW (``data/lfw_distances.json``): where does one distance fall?

Compare draws a pair's distance against the matched and mismatched distributions of its encoder
and distance (:func:`facereid_engine.evaluation.charts.draw_histograms`). The file says how it was produced.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..distances import canonical_distance


@dataclass(frozen=True)
class ReferenceHistogram:
    """Matched / mismatched counts on shared bin ``edges`` for one encoder and distance."""

    encoder: str
    distance: str
    edges: np.ndarray
    matched: np.ndarray
    mismatched: np.ndarray
    source: str

    def fraction_below(self, value: float) -> tuple[float, float]:
        """(share of matched, share of mismatched) pairs with a distance at most ``value`` (bins
        interpolated linearly)."""
        out = []
        for counts in (self.matched, self.mismatched):
            cumulative = np.concatenate([[0.0], np.cumsum(counts, dtype=float)])
            out.append(float(np.interp(value, self.edges, cumulative) / cumulative[-1]) if cumulative[-1] else 0.0)
        return out[0], out[1]


@lru_cache(maxsize=1)
def _table() -> dict:
    path = resources.files("facereid_engine").joinpath("data/lfw_distances.json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text("utf-8"))


def reference_histogram(encoder: str, distance: str) -> ReferenceHistogram | None:
    """The LFW histograms of ``encoder`` with ``distance``, or None where none were measured."""
    distance = canonical_distance(distance)
    table = _table()
    entry = table.get("histograms", {}).get(encoder, {}).get(distance)
    if entry is None:
        return None
    return ReferenceHistogram(encoder, distance, np.asarray(entry["edges"], dtype=float),
                              np.asarray(entry["matched"], dtype=np.int64),
                              np.asarray(entry["mismatched"], dtype=np.int64),
                              table.get("produced_by", {}).get("pairs", ""))
