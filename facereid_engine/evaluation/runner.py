"""Evaluate encoders and distances on a labelled pair set (the engine side of ``facereid eval`` and Charts).

:func:`evaluate` is a generator (DESIGN.md): it yields :class:`~.progress.Progress` while it embeds
each distinct image once per encoder (cached on disk), then returns an :class:`Evaluation` holding,
per encoder and distance, a :class:`DistanceResult`: the protocol accuracy (see ``scoring.py``)
and the threshold-free curve metrics (ROC, AUC, EER, TAR at FAR) over all scored pairs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

from ..distances import DISTANCES, canonical_distance, paired
from .embedding_cache import ImageEmbeddings, embed_image_files
from ..encoders import DEFAULT_ENCODER, Encoder
from .metrics import OperatingPoints, auc, equal_error_rate, histograms, operating_points, tar_at_far
from .pairsets import PairSet
from ..progress import Progress, Work
from .scoring import ProtocolScore, fixed_threshold, k_fold, train_test
from ..thresholds import default_threshold

FAR_TARGETS = (1e-3, 1e-2)
CURVES_PROTOCOL = ("pooled over all scored pairs; threshold-free curve metrics (ROC, AUC, EER, TAR at FAR: "
                   "the largest TAR of any threshold whose FAR is at most the target)")


@dataclass(eq=False)
class DistanceResult:
    """One encoder with one distance on the scored pair set.

    ``score`` is the protocol accuracy (thresholds never chosen on the pairs they score); the curve
    metrics use every scored pair. ``distances``, ``same`` and ``folds`` are per scored pair.
    """

    encoder: str
    distance: str
    score: ProtocolScore
    distances: np.ndarray
    same: np.ndarray
    folds: np.ndarray
    far_targets: tuple[float, ...] = FAR_TARGETS

    @property
    def threshold(self) -> float:
        """The threshold the protocol chose (mean over folds): the one charts mark."""
        return self.score.threshold_mean

    @cached_property
    def points(self) -> OperatingPoints:
        """Every operating point: ``.thresholds``, ``.accuracy``, ``.tpr``, ``.fpr``."""
        return operating_points(self.distances, self.same)

    @cached_property
    def auc(self) -> float:
        return auc(self.distances, self.same)

    @cached_property
    def eer(self) -> tuple[float, float]:
        """(equal error rate, threshold there)."""
        return equal_error_rate(self.distances, self.same)

    @cached_property
    def tar_at_far(self) -> dict[float, tuple[float, float]]:
        """``{far: (tar, threshold)}`` for each FAR target."""
        return {far: tar_at_far(self.distances, self.same, far) for far in self.far_targets}

    def histogram(self, bins: int = 60, upper: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edges, matched counts, mismatched counts)."""
        return histograms(self.distances, self.same, bins=bins, upper=upper)

    def to_json(self, with_histogram: bool = True) -> dict:
        s = self.score
        out = {
            "accuracy_mean": round(s.accuracy_mean, 6),
            "accuracy_std": round(s.accuracy_std, 6),
            "accuracy_stderr": round(s.accuracy_stderr, 6),
            "fold_accuracies": [round(a, 6) for a in s.fold_accuracies],
            "thresholds": [round(t, 6) for t in s.thresholds],
            "threshold_mean": round(s.threshold_mean, 6),
            "protocol": s.protocol,
            "protocol_description": s.description,
            "auc": round(self.auc, 6),
            "eer": round(self.eer[0], 6),
            "eer_threshold": round(self.eer[1], 6),
            "tar_at_far": {repr(far): round(v[0], 6) for far, v in self.tar_at_far.items()},
            "tar_at_far_thresholds": {repr(far): round(v[1], 6) for far, v in self.tar_at_far.items()},
            "curves_protocol": CURVES_PROTOCOL,
            "n_pairs": int(len(self.same)),
            "n_matched": int(self.same.sum()),
            "n_mismatched": int((~self.same).sum()),
            "n_folds": int(len(np.unique(self.folds))),
        }
        if s.train_accuracies is not None:
            out["train_accuracies"] = [round(a, 6) for a in s.train_accuracies]
        if s.protocol == "fixed-threshold":
            out["threshold_provisional"] = s.provisional
        if with_histogram:
            edges, matched, mismatched = self.histogram()
            out["histogram"] = {"edges": [round(float(e), 6) for e in edges], "matched": matched.tolist(),
                                "mismatched": mismatched.tolist()}
        return out


@dataclass(eq=False)
class EncoderResult:
    """Everything measured for one encoder; ``distances`` maps a distance name to its result."""

    encoder: str
    dim: int
    n_images: int
    fallbacks: int
    cached: int
    embed_seconds: float
    distances: dict[str, DistanceResult] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"dim": self.dim, "n_images": self.n_images, "fallbacks": self.fallbacks,
                "cached": self.cached, "embed_seconds": round(self.embed_seconds, 3)}


@dataclass(eq=False)
class Evaluation:
    """The result of :func:`evaluate`: ``results[encoder][distance]`` is a :class:`DistanceResult`."""

    pairs: PairSet
    train: PairSet | None
    flip: bool
    face_choice: str
    encoders: dict[str, EncoderResult]
    seconds: float

    @property
    def results(self) -> dict[str, dict[str, DistanceResult]]:
        return {name: enc.distances for name, enc in self.encoders.items()}

    def to_json(self, with_histogram: bool = True) -> dict:
        """The JSON of ``facereid eval --json``."""
        return {
            "pairs": self.pairs.describe(),
            "train_pairs": None if self.train is None else self.train.describe(),
            "n_pairs": self.pairs.n_pairs,
            "n_folds": self.pairs.n_folds,
            "flip": self.flip,
            "face_choice": self.face_choice,
            "seconds": round(self.seconds, 3),
            "encoders": {name: enc.to_json() for name, enc in self.encoders.items()},
            "results": {name: {d: r.to_json(with_histogram) for d, r in enc.distances.items()}
                        for name, enc in self.encoders.items()},
        }


def score_distances(encoder: str | Encoder, distance: str, pairs: PairSet, vectors: np.ndarray,
                    train: PairSet | None = None, train_vectors: np.ndarray | None = None,
                    far_targets: tuple[float, ...] = FAR_TARGETS) -> DistanceResult:
    """Distances of every pair and its protocol score.

    ``vectors[i]`` embeds ``pairs.images[i]`` (and ``train_vectors`` those of ``train``). With a
    training set: :func:`~.scoring.train_test`; with 2+ folds: :func:`~.scoring.k_fold`; else
    the accuracy at the encoder's calibrated default threshold. A trained pair classifier (an
    encoder with ``pair_distance``) is scored on its own decisions (1 - P(same)), whatever ``distance``.
    """
    distance = canonical_distance(distance)
    own = getattr(encoder, "pair_distance", None)
    name = encoder if isinstance(encoder, str) else encoder.name

    def measure(v: np.ndarray, ps: PairSet) -> np.ndarray:
        return own(v[ps.left], v[ps.right]) if own is not None else paired(v[ps.left], v[ps.right], distance)

    d = measure(vectors, pairs)
    if train is not None:
        if train_vectors is None:
            raise ValueError("train_vectors are needed with a training pair set")
        score = train_test(measure(train_vectors, train), train.same, d, pairs.same)
    elif pairs.n_folds >= 2:
        score = k_fold(d, pairs.same, pairs.fold)
    else:
        if own is not None:
            value, provisional = float(encoder.decision_threshold), False
        else:
            value, provisional = default_threshold(name, distance)
        score = fixed_threshold(d, pairs.same, value, provisional=provisional,
                                origin=f"the default {name}/{distance}")
    return DistanceResult(name, distance, score, d, pairs.same.copy(), pairs.fold.copy(), tuple(far_targets))


def _pipeline_for(encoder: str | Encoder, detector: str):
    from ..pipeline import FacePipeline
    pipeline = FacePipeline(encoder, detector=detector)
    _ = pipeline.encoder  # load now: an unavailable model fails before any work
    return pipeline


def evaluate(pairs: PairSet, encoders: Iterable[str | Encoder] = (DEFAULT_ENCODER,),
             distances: Sequence[str] = DISTANCES, *, train: PairSet | None = None, flip: bool = False,
             face_choice: str | None = None, use_cache: bool = True, batch_size: int = 32, workers: int = 2,
             far_targets: tuple[float, ...] = FAR_TARGETS, detector: str = "mmod") -> Work[Evaluation]:
    """Evaluate each encoder with each distance on ``pairs`` (a generator; returns an :class:`Evaluation`).

    Args:
        pairs: the scored pair set (:func:`~.pairsets.read_pairs_file` or :func:`~.pairsets.identity_pairs`).
        encoders: encoder names or :class:`~.encoders.Encoder` objects.
        distances: distance names (default: all three).
        train: a pair set to choose the threshold on (View 1's ``pairsDevTrain.txt``).
        flip: average each chip's vector with its mirror image's.
        face_choice: ``centre`` or ``largest`` (default: ``centre`` for pairs files, ``largest`` for
            folders of people).
        use_cache, batch_size, workers: see :func:`~.embedding_cache.embed_image_files`.
        detector: ``mmod`` or ``yunet`` (see :class:`~facereid_engine.pipeline.FacePipeline`).

    Raises:
        ModelUnavailableError, UnknownNameError: before any image is read.
    """
    start = time.monotonic()
    names = [canonical_distance(d) for d in distances]
    pipelines = [_pipeline_for(e, detector) for e in encoders]
    choice = face_choice or ("largest" if pairs.kind == "identities" else "centre")
    images = list(dict.fromkeys((*pairs.images, *(train.images if train is not None else ()))))
    where = {p: i for i, p in enumerate(images)}
    test_rows = np.array([where[p] for p in pairs.images], dtype=np.int64)
    train_rows = None if train is None else np.array([where[p] for p in train.images], dtype=np.int64)
    total = len(images) * len(pipelines)
    results: dict[str, EncoderResult] = {}
    for k, pipeline in enumerate(pipelines):
        name = pipeline.encoder.name
        offset = k * len(images)
        work = embed_image_files(images, pipeline, flip=flip, face_choice=choice, use_cache=use_cache,
                                 batch_size=batch_size, workers=workers)
        try:
            while True:
                event = next(work)
                yield Progress(offset + event.done, total, f"{name}: {event.message}",
                               {**event.info, "encoder": name})
        except StopIteration as stop:
            emb: ImageEmbeddings = stop.value
        finally:
            work.close()
        enc = EncoderResult(name, int(emb.vectors.shape[1]), len(images), int(emb.fallback.sum()), emb.cached,
                            emb.seconds)
        for distance in names:
            enc.distances[distance] = score_distances(
                pipeline.encoder, distance, pairs, emb.vectors[test_rows], train,
                None if train_rows is None else emb.vectors[train_rows], far_targets)
        results[name] = enc
        yield Progress(offset + len(images), total, f"{name}: scored {len(names)} distance(s)")
    return Evaluation(pairs, train, flip, choice, results, time.monotonic() - start)
