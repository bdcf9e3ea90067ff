"""Evaluation charts drawn onto a matplotlib ``Axes`` the caller owns (no pyplot state, no Qt).

The CLI draws them on an Agg figure and saves PNGs; the GUI draws the same functions on the
``Axes`` of its ``FigureCanvasQTAgg``. Each function clears nothing and returns the artists it made,
so the caller can move a threshold line (:func:`move_threshold_line`) without redrawing everything.

- :func:`draw_accuracy`: accuracy against threshold, one line per result, the chosen threshold marked.
- :func:`draw_roc`: TPR against FPR (log FPR axis by default), one line per result.
- :func:`draw_histograms`: matched / mismatched distance histograms with a threshold line (and,
  for Compare, a marker at one measured distance); :func:`draw_result_histograms` takes a result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .runner import DistanceResult

MATCHED_COLOUR = "#2a9d8f"
MISMATCHED_COLOUR = "#e76f51"
THRESHOLD_COLOUR = "#264653"


@dataclass
class ChartArtists:
    """What a chart function drew: ``lines[label]`` (curves), ``thresholds[label]`` (vertical lines),
    ``markers`` (other artists: bars, value lines)."""

    lines: dict[str, Line2D] = field(default_factory=dict)
    thresholds: dict[str, Line2D] = field(default_factory=dict)
    markers: dict[str, object] = field(default_factory=dict)


def result_label(result: DistanceResult, with_encoder: bool) -> str:
    """``euclidean`` or ``dlib · euclidean``."""
    return f"{result.encoder} · {result.distance}" if with_encoder else result.distance


def _with_encoder(results: Sequence[DistanceResult]) -> bool:
    return len({r.encoder for r in results}) > 1


def move_threshold_line(line: Line2D, threshold: float) -> None:
    """Move a vertical threshold line drawn by these functions to ``threshold``."""
    line.set_xdata([threshold, threshold])


def draw_accuracy(ax: Axes, results: Sequence[DistanceResult], *, mark_chosen: bool = True) -> ChartArtists:
    """Accuracy against threshold (every operating point), one line per result; a dashed vertical line
    at each result's chosen threshold (``result.threshold``) in the same colour."""
    artists = ChartArtists()
    labelled = _with_encoder(results)
    for result in results:
        label = result_label(result, labelled)
        points = result.points
        (line,) = ax.plot(points.thresholds, points.accuracy, label=label, linewidth=1.4)
        artists.lines[label] = line
        if mark_chosen:
            artists.thresholds[label] = ax.axvline(result.threshold, color=line.get_color(), linestyle="--",
                                                   linewidth=1.0)
    ax.set_xlabel("threshold (same person when distance ≤ threshold)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.45, 1.005)
    ax.grid(True, alpha=0.3)
    if results:
        ax.legend(loc="lower right", fontsize="small")
    return artists


def draw_roc(ax: Axes, results: Sequence[DistanceResult], *, log_fpr: bool = True) -> ChartArtists:
    """ROC curves (TPR against FPR) with their AUC in the legend; FPR on a log axis by default
    (points with FPR 0 are left out there)."""
    artists = ChartArtists()
    labelled = _with_encoder(results)
    for result in results:
        label = result_label(result, labelled)
        fpr, tpr = result.points.fpr, result.points.tpr
        if log_fpr:
            keep = fpr > 0
            fpr, tpr = fpr[keep], tpr[keep]
        (line,) = ax.plot(fpr, tpr, label=f"{label} (AUC {result.auc:.4f})", linewidth=1.4)
        artists.lines[label] = line
    if log_fpr:
        ax.set_xscale("log")
    ax.set_xlabel("false accept rate (FPR)")
    ax.set_ylabel("true accept rate (TPR)")
    ax.grid(True, alpha=0.3, which="both")
    if results:
        ax.legend(loc="lower right", fontsize="small")
    return artists


def draw_histograms(ax: Axes, edges: np.ndarray, matched: np.ndarray, mismatched: np.ndarray, *,
                    threshold: float | None = None, value: float | None = None, density: bool = True,
                    title: str | None = None) -> ChartArtists:
    """Matched and mismatched distance histograms on shared bin ``edges``.

    ``threshold`` draws the decision line (``thresholds["threshold"]``); ``value`` draws a solid line
    at one measured distance (``markers["value"]``), e.g. Compare's pair. ``density`` scales each
    histogram to unit area so the two are comparable whatever their counts.
    """
    artists = ChartArtists()
    edges = np.asarray(edges, dtype=float)
    widths = np.diff(edges)
    for key, counts, colour, label in (("matched", matched, MATCHED_COLOUR, "same person"),
                                       ("mismatched", mismatched, MISMATCHED_COLOUR, "different people")):
        counts = np.asarray(counts, dtype=float)
        total = counts.sum()
        heights = counts / (total * widths) if density and total else counts
        artists.markers[key] = ax.bar(edges[:-1], heights, width=widths, align="edge", color=colour, alpha=0.55,
                                      label=label, linewidth=0)
    if threshold is not None:
        artists.thresholds["threshold"] = ax.axvline(threshold, color=THRESHOLD_COLOUR, linestyle="--",
                                                     linewidth=1.2, label=f"threshold {threshold:.3f}")
    if value is not None:
        artists.markers["value"] = ax.axvline(value, color="black", linewidth=2.0, label=f"this pair {value:.3f}")
    ax.set_xlabel("distance")
    ax.set_ylabel("density" if density else "pairs")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    return artists


def draw_result_histograms(ax: Axes, result: DistanceResult, *, threshold: float | None = None,
                           bins: int = 60, density: bool = True) -> ChartArtists:
    """:func:`draw_histograms` of a result, with its chosen threshold unless ``threshold`` is given."""
    edges, matched, mismatched = result.histogram(bins=bins)
    return draw_histograms(ax, edges, matched, mismatched,
                           threshold=result.threshold if threshold is None else threshold,
                           density=density, title=f"{result.encoder} · {result.distance}")
