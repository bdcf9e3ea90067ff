"""An :class:`~.runner.Evaluation` as plain JSON data and back (no pickle: a file read is data, never code).

:func:`evaluation_to_data` keeps everything the charts draw from (each pair's distance, label and
fold, the protocol scores, the pair sets); :func:`evaluation_from_data` rebuilds the objects and
raises ``ValueError`` (or ``KeyError``/``TypeError``) on anything that is not such data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .pairsets import PairSet
from .runner import DistanceResult, EncoderResult, Evaluation
from .scoring import ProtocolScore

FORMAT = "facereid-evaluation"
VERSION = 1


def _pairs_data(pairs: PairSet | None) -> dict | None:
    if pairs is None:
        return None
    return {"source": str(pairs.source), "kind": pairs.kind, "images": [str(p) for p in pairs.images],
            "left": pairs.left.tolist(), "right": pairs.right.tolist(), "same": pairs.same.tolist(),
            "fold": pairs.fold.tolist(), "n_folds": pairs.n_folds, "lines": pairs.lines.tolist(), "seed": pairs.seed}


def _array(values, dtype, n: int | None = None) -> np.ndarray:
    if not isinstance(values, list):
        raise ValueError("an array must be a list")
    out = np.asarray(values, dtype=dtype)
    if out.ndim != 1 or (n is not None and len(out) != n):
        raise ValueError("an array has the wrong shape")
    return out


def _pairs(data: dict | None) -> PairSet | None:
    if data is None:
        return None
    images = tuple(Path(_text(p)) for p in data["images"])
    left = _array(data["left"], np.int64)
    n = len(left)
    right = _array(data["right"], np.int64, n)
    if n and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= len(images)):
        raise ValueError("pair indices outside the image list")
    seed = data["seed"]
    return PairSet(Path(_text(data["source"])), _text(data["kind"]), images, left, right,
                   _array(data["same"], bool, n), _array(data["fold"], np.int64, n), int(data["n_folds"]),
                   _array(data["lines"], np.int64, n), None if seed is None else int(seed))


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _score_data(s: ProtocolScore) -> dict:
    return {"protocol": s.protocol, "description": s.description, "fold_accuracies": list(s.fold_accuracies),
            "thresholds": list(s.thresholds), "provisional": s.provisional,
            "train_accuracies": None if s.train_accuracies is None else list(s.train_accuracies)}


def _score(data: dict) -> ProtocolScore:
    train = data["train_accuracies"]
    return ProtocolScore(_text(data["protocol"]), _text(data["description"]), _floats(data["fold_accuracies"]),
                         _floats(data["thresholds"]), None if train is None else _floats(train),
                         bool(data["provisional"]))


def evaluation_to_data(evaluation: Evaluation) -> dict:
    """JSON-ready data of ``evaluation`` (see :func:`evaluation_from_data`)."""
    encoders = {}
    for name, enc in evaluation.encoders.items():
        encoders[name] = {
            "dim": enc.dim, "n_images": enc.n_images, "fallbacks": enc.fallbacks, "cached": enc.cached,
            "embed_seconds": enc.embed_seconds,
            "distances": {d: {"encoder": r.encoder, "distance": r.distance, "score": _score_data(r.score),
                              "distances": r.distances.tolist(), "same": r.same.tolist(), "folds": r.folds.tolist(),
                              "far_targets": list(r.far_targets)} for d, r in enc.distances.items()}}
    return {"format": FORMAT, "version": VERSION, "pairs": _pairs_data(evaluation.pairs),
            "train": _pairs_data(evaluation.train), "flip": evaluation.flip, "face_choice": evaluation.face_choice,
            "seconds": evaluation.seconds, "encoders": encoders}


def evaluation_from_data(data: dict) -> Evaluation:
    """The :class:`Evaluation` of :func:`evaluation_to_data`'s output; ``ValueError`` if it is not that."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(f"not a saved evaluation ({FORMAT} version {VERSION})")
    encoders = {}
    for name, enc in data["encoders"].items():
        result = EncoderResult(_text(name), int(enc["dim"]), int(enc["n_images"]), int(enc["fallbacks"]),
                               int(enc["cached"]), float(enc["embed_seconds"]))
        for distance, r in enc["distances"].items():
            d = _array(r["distances"], np.float64)
            result.distances[_text(distance)] = DistanceResult(
                _text(r["encoder"]), _text(r["distance"]), _score(r["score"]), d, _array(r["same"], bool, len(d)),
                _array(r["folds"], np.int64, len(d)), _floats(r["far_targets"]))
        encoders[name] = result
    pairs = _pairs(data["pairs"])
    if pairs is None:
        raise ValueError("a saved evaluation needs its pairs")
    return Evaluation(pairs, _pairs(data["train"]), bool(data["flip"]), _text(data["face_choice"]), encoders,
                      float(data["seconds"]))
