"""Verification metrics on labelled distances: accuracy against threshold, ROC, AUC, EER, TAR at FAR.

Conventions (the same as :func:`facereid_engine.verification`): a pair is predicted *same person*
when ``distance <= threshold``. ``same`` is True for matched pairs. Everything is exact on the
observed distances: the candidate thresholds are every midpoint between two consecutive distinct
distances, plus one just below the smallest (nothing accepted) and the largest (everything accepted).
Between two candidates no prediction changes, so these are all the operating points there are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(distances, same) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same, dtype=bool).ravel()
    if d.shape != s.shape:
        raise ValueError(f"{d.size} distances but {s.size} labels")
    if d.size == 0:
        raise ValueError("no pairs")
    if not np.all(np.isfinite(d)):
        raise ValueError("distances must be finite")
    return d, s


@dataclass(frozen=True)
class OperatingPoints:
    """Every distinct operating point, thresholds increasing.

    ``thresholds[k]`` accepts ``accepted_same[k]`` matched and ``accepted_different[k]`` mismatched
    pairs; ``k = 0`` accepts nothing and the last accepts everything.
    """

    thresholds: np.ndarray
    accepted_same: np.ndarray
    accepted_different: np.ndarray
    n_same: int
    n_different: int

    @property
    def tpr(self) -> np.ndarray:
        """True accept rate (matched pairs accepted / matched pairs); 0 when there are none."""
        return self.accepted_same / self.n_same if self.n_same else np.zeros(len(self.thresholds))

    @property
    def fpr(self) -> np.ndarray:
        """False accept rate (mismatched pairs accepted / mismatched pairs); 0 when there are none."""
        return self.accepted_different / self.n_different if self.n_different else np.zeros(len(self.thresholds))

    @property
    def accuracy(self) -> np.ndarray:
        """Fraction of pairs classified correctly at each threshold."""
        correct = self.accepted_same + (self.n_different - self.accepted_different)
        return correct / (self.n_same + self.n_different)


def operating_points(distances, same) -> OperatingPoints:
    """All operating points of the rule ``distance <= threshold`` on these pairs."""
    d, s = _check(distances, same)
    values, inverse = np.unique(d, return_inverse=True)
    same_at = np.bincount(inverse, weights=s, minlength=len(values)).astype(np.int64)
    diff_at = np.bincount(inverse, weights=~s, minlength=len(values)).astype(np.int64)
    thresholds = np.concatenate([[np.nextafter(values[0], -np.inf)], (values[:-1] + values[1:]) / 2,
                                 [values[-1]]])
    return OperatingPoints(thresholds=thresholds,
                           accepted_same=np.concatenate([[0], np.cumsum(same_at)]),
                           accepted_different=np.concatenate([[0], np.cumsum(diff_at)]),
                           n_same=int(s.sum()), n_different=int((~s).sum()))


def accuracy_curve(distances, same) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, accuracies) at every candidate threshold, thresholds increasing."""
    points = operating_points(distances, same)
    return points.thresholds, points.accuracy


def best_threshold(distances, same) -> tuple[float, float]:
    """(threshold, accuracy) of the most accurate candidate threshold on these pairs.

    When several candidates tie for the best accuracy, the middle one of them (the lower of the
    two middle ones for an even count) is taken, so that a flat optimum is not chosen at its edge.
    """
    thresholds, accuracy = accuracy_curve(distances, same)
    best = np.flatnonzero(accuracy == accuracy.max())
    k = best[(len(best) - 1) // 2]
    return float(thresholds[k]), float(accuracy[k])


def accuracy_at(distances, same, threshold: float) -> float:
    """Fraction of pairs classified correctly by ``distance <= threshold``."""
    d, s = _check(distances, same)
    return float(np.mean((d <= threshold) == s))


def roc_curve(distances, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), from (0, 0) (nothing accepted) to (1, 1) (everything accepted)."""
    points = operating_points(distances, same)
    return points.fpr, points.tpr, points.thresholds


def auc(distances, same) -> float:
    """Area under the ROC curve (trapezoids; ties count one half, as in the Mann-Whitney statistic).

    Pairs with smaller distances rank as more likely the same person.
    """
    fpr, tpr, _ = roc_curve(distances, same)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def equal_error_rate(distances, same) -> tuple[float, float]:
    """(EER, threshold) where the false accept rate equals the false reject rate (1 - TPR).

    On the ROC polyline (straight segments between consecutive operating points) the EER is the
    FPR of the point where ``FPR = 1 - TPR``; the threshold is interpolated linearly along the same
    segment.
    """
    fpr, tpr, thresholds = roc_curve(distances, same)
    gap = fpr - (1.0 - tpr)  # non-decreasing from -1 to +1
    k = int(np.argmax(gap >= 0))
    if gap[k] == 0 or k == 0:
        return float(fpr[k]), float(thresholds[k])
    f0, t0, df, dt = fpr[k - 1], tpr[k - 1], fpr[k] - fpr[k - 1], tpr[k] - tpr[k - 1]
    alpha = (1.0 - t0 - f0) / (df + dt)
    rate = f0 + alpha * df
    threshold = thresholds[k - 1] + alpha * (thresholds[k] - thresholds[k - 1])
    return float(rate), float(threshold)


def tar_at_far(distances, same, far: float) -> tuple[float, float]:
    """(TAR, threshold): the largest true accept rate of any threshold whose false accept rate is
    at most ``far``, and the largest such threshold. No interpolation: with 3,000 mismatched pairs,
    FAR 1e-3 allows at most 3 false accepts."""
    points = operating_points(distances, same)
    k = int(np.flatnonzero(points.fpr <= far)[-1])  # k = 0 (nothing accepted) always qualifies
    return float(points.tpr[k]), float(points.thresholds[k])


def nice_upper_bound(value: float) -> float:
    """A round number at least ``value`` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten)."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** np.floor(np.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * scale >= value:
            return float(step * scale)
    return float(10 * scale)  # pragma: no cover


def histograms(distances, same, bins: int = 60, upper: float | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, matched_counts, mismatched_counts) on ``bins`` equal bins from 0 to ``upper``
    (default: a round number above the largest distance); distances above ``upper`` go in the last bin."""
    d, s = _check(distances, same)
    top = nice_upper_bound(float(d.max())) if upper is None else float(upper)
    edges = np.linspace(0.0, top, bins + 1)
    clipped = np.clip(d, 0.0, top)
    matched, _ = np.histogram(clipped[s], bins=edges)
    mismatched, _ = np.histogram(clipped[~s], bins=edges)
    return edges, matched, mismatched
