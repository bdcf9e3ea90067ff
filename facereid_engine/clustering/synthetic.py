"""Synthetic face embeddings for tests and benchmarks: identities as blobs, spaced like dlib's."""
from __future__ import annotations

import numpy as np

_CHUNK = 1 << 16   # rows drawn at a time: a million faces never hold float64 copies of the whole set


def synthetic_faces(n_faces: int, n_people: int, dim: int = 128, seed: int = 0,
                    spread: float = 0.36, separation: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(vectors float32 (n, dim), identity (n,)) with Zipf-like identity sizes.

    Two faces of one identity lie about ``spread`` apart (each identity's spread varies by +-30%),
    two identities' centres about ``separation`` apart: the geometry of dlib's descriptors.
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_people + 1) ** 0.8
    identity = rng.choice(n_people, size=n_faces, p=weights / weights.sum())
    identity = np.sort(identity)
    centres = rng.normal(0.0, separation / np.sqrt(2 * dim), size=(n_people, dim))
    sigma = spread / np.sqrt(2 * dim) * rng.uniform(0.7, 1.3, size=n_people)
    vectors = np.empty((n_faces, dim), np.float32)
    for start in range(0, n_faces, _CHUNK):   # the same draws as one (n, dim) normal, row by row
        who = identity[start:start + _CHUNK]
        vectors[start:start + len(who)] = centres[who] + rng.normal(size=(len(who), dim)) * sigma[who, None]
    perm = rng.permutation(n_faces)
    return vectors[perm], identity[perm]
