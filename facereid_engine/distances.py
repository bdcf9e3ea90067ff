"""The three distances of the study: euclidean, euclidean on L2-normalised vectors, cosine (1 - cos)."""
from __future__ import annotations

import numpy as np

from .errors import UnknownNameError

DISTANCES = ("euclidean", "euclidean_l2", "cosine")
_ALIASES = {"euclidean-l2": "euclidean_l2", "euclidean_l2": "euclidean_l2", "l2": "euclidean_l2",
            "euclidean": "euclidean", "cosine": "cosine"}


def canonical_distance(name: str) -> str:
    """``euclidean``, ``euclidean_l2`` (also spelled ``euclidean-l2``) or ``cosine``."""
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise UnknownNameError(f"unknown distance {name!r}: choose one of {', '.join(DISTANCES)}")
    return _ALIASES[key]


def is_same_person(distance_value: float, threshold: float) -> bool:
    """The verdict everywhere (``verification``, the CLI, the Compare page): same person when the
    distance is at most the threshold; a NaN distance (a degenerate vector) is never a match."""
    value = float(distance_value)
    return value == value and value <= float(threshold)


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[None, :] if x.ndim == 1 else x


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def paired(a: np.ndarray, b: np.ndarray, name: str = "euclidean") -> np.ndarray:
    """Distances between rows ``a[i]`` and ``b[i]``; 1-D inputs give a scalar array."""
    name = canonical_distance(name)
    a2, b2 = _as_2d(a), _as_2d(b)
    if a2.shape != b2.shape:
        raise ValueError(f"shapes differ: {a2.shape} and {b2.shape}")
    if name == "euclidean_l2":
        a2, b2 = l2_normalize(a2), l2_normalize(b2)
    if name == "cosine":
        out = 1.0 - np.sum(l2_normalize(a2) * l2_normalize(b2), axis=1)
    else:
        out = np.linalg.norm(a2 - b2, axis=1)
    return out[0] if np.ndim(a) == 1 and np.ndim(b) == 1 else out


def distance(a: np.ndarray, b: np.ndarray, name: str = "euclidean") -> float:
    """Distance between two vectors."""
    return float(paired(np.ravel(a), np.ravel(b), name))


def matrix(a: np.ndarray, b: np.ndarray | None = None, name: str = "euclidean") -> np.ndarray:
    """Full distance matrix between the rows of ``a`` and of ``b`` (``a`` with itself when ``b`` is None)."""
    name = canonical_distance(name)
    a2 = _as_2d(a)
    b2 = a2 if b is None else _as_2d(b)
    if name in ("euclidean_l2", "cosine"):
        a2, b2 = l2_normalize(a2), l2_normalize(b2)
    if name == "cosine":
        return 1.0 - a2 @ b2.T
    sq = np.sum(a2 * a2, axis=1)[:, None] + np.sum(b2 * b2, axis=1)[None, :] - 2.0 * (a2 @ b2.T)
    return np.sqrt(np.maximum(sq, 0.0))
