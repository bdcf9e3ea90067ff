"""BCubed precision, recall and F1 of a clustering against true identities."""
from __future__ import annotations

import numpy as np


def bcubed(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(precision, recall, F1) averaged over items; label -1 means unsorted (each its own cluster)."""
    labels = np.asarray(labels, np.int64).copy()
    truth = np.asarray(truth)
    if not len(labels):
        return 1.0, 1.0, 1.0
    loose = labels < 0
    labels[loose] = labels.max(initial=0) + 1 + np.arange(loose.sum())
    _, t = np.unique(truth, return_inverse=True)
    _, c = np.unique(labels, return_inverse=True)
    pair = c.astype(np.int64) * (t.max() + 1) + t
    _, pair_index, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
    both = pair_count[pair_index]
    precision = float(np.mean(both / np.bincount(c)[c]))
    recall = float(np.mean(both / np.bincount(t)[t]))
    return precision, recall, 2 * precision * recall / (precision + recall)
