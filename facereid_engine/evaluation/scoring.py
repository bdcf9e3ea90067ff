"""How a verification accuracy is scored without choosing the threshold on the scored pairs.

- :func:`k_fold`: LFW's View 2 protocol: for each fold, the threshold is chosen on the other folds
  and the accuracy measured on the held-out fold.
- :func:`train_test`: View 1: the threshold is chosen on a training pair set, scored once on another.
- :func:`fixed_threshold`: one fold and no training set: the accuracy at a given (calibrated) threshold.

The spread reported is the *sample* standard deviation of the fold accuracies (``ddof=1``), the
``sigma`` of the LFW protocol, and its standard error ``sigma / sqrt(folds)``, which LFW's results
tables print after the "±". With one fold both are 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .metrics import accuracy_at, best_threshold

K_FOLD = "k-fold"
TRAIN_TEST = "train-test"
FIXED_THRESHOLD = "fixed-threshold"


@dataclass(frozen=True)
class ProtocolScore:
    """Accuracy measured on pairs whose labels played no part in choosing the threshold(s).

    Attributes:
        protocol: ``k-fold``, ``train-test`` or ``fixed-threshold``.
        description: one sentence saying where the thresholds came from and what was scored.
        fold_accuracies: accuracy on each scored fold.
        thresholds: the threshold used on each scored fold.
        train_accuracies: accuracy of each threshold on the pairs it was chosen on (None for a fixed one).
    """

    protocol: str
    description: str
    fold_accuracies: tuple[float, ...]
    thresholds: tuple[float, ...]
    train_accuracies: tuple[float, ...] | None = None
    provisional: bool = field(default=False)

    @property
    def accuracy_mean(self) -> float:
        return float(np.mean(self.fold_accuracies))

    @property
    def accuracy_std(self) -> float:
        """Sample standard deviation of the fold accuracies (0 for one fold)."""
        acc = np.asarray(self.fold_accuracies)
        return float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0

    @property
    def accuracy_stderr(self) -> float:
        """Standard error of the mean, ``accuracy_std / sqrt(folds)``."""
        return self.accuracy_std / float(np.sqrt(len(self.fold_accuracies)))

    @property
    def threshold_mean(self) -> float:
        return float(np.mean(self.thresholds))


def k_fold(distances, same, folds) -> ProtocolScore:
    """Threshold for fold ``k`` chosen (:func:`~.metrics.best_threshold`) on all other folds, accuracy
    measured on fold ``k``. ``folds`` holds each pair's fold number; at least two folds are needed."""
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    f = np.asarray(folds)
    labels = np.unique(f)
    if len(labels) < 2:
        raise ValueError("the k-fold protocol needs at least two folds")
    accs, thresholds, train = [], [], []
    for k in labels:
        held_out = f == k
        t, train_acc = best_threshold(d[~held_out], s[~held_out])
        thresholds.append(t)
        train.append(train_acc)
        accs.append(accuracy_at(d[held_out], s[held_out], t))
    n = len(labels)
    return ProtocolScore(K_FOLD, f"{n}-fold cross-validation: each fold scored at the threshold chosen on "
                                 f"the other {n - 1} folds", tuple(accs), tuple(thresholds), tuple(train))


def train_test(train_distances, train_same, test_distances, test_same) -> ProtocolScore:
    """Threshold chosen on the training pairs, accuracy measured once on the test pairs."""
    t, train_acc = best_threshold(train_distances, train_same)
    acc = accuracy_at(test_distances, test_same, t)
    return ProtocolScore(TRAIN_TEST, "threshold chosen on the training pair set, scored once on the test "
                                     "pair set", (acc,), (t,), (train_acc,))


def fixed_threshold(distances, same, threshold: float, *, provisional: bool = False,
                    origin: str = "the calibrated default") -> ProtocolScore:
    """Accuracy at a threshold chosen elsewhere (``origin`` says where)."""
    acc = accuracy_at(distances, same, threshold)
    note = " (provisional: not calibrated yet)" if provisional else ""
    return ProtocolScore(FIXED_THRESHOLD, f"scored at {origin} threshold{note}; nothing chosen on these "
                                          "pairs", (acc,), (float(threshold),), None, provisional)
