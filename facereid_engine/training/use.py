"""The study's ``fr.use(img1_path=..., img2_path=..., model_name=...)``: decide with a trained model."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..distances import is_same_person
from ..encoders.names import split_trained
from ..errors import UnknownNameError
from ..pipeline import get_pipeline
from ..verify import ImageSource, VerificationResult, faces_in, verification
from .model import TrainedPairEncoder
from .store import list_trained

#: The ``distance_name`` of a pair classifier's result: ``1 - probability`` of the same person.
PAIR_SCORE = "pair"


@dataclass
class PairVerificationResult(VerificationResult):
    """A pair classifier's verdict: ``distance = 1 - probability``, same person when ``<= threshold`` (0.5)."""

    probability: float = math.nan

    def to_json(self) -> dict:
        return {**super().to_json(), "probability": round(self.probability, 6)}


def resolve_model_name(model_name: str) -> str:
    """``<base>+<name>``, or a bare ``<name>`` when exactly one trained model has it."""
    name = str(model_name).strip()
    models = list_trained()
    if split_trained(name) is not None:
        if name not in models:
            raise UnknownNameError(f"no trained model called {name!r} "
                                   f"(trained models: {', '.join(models) or 'none yet'})")
        return name
    matches = [m for m in models if split_trained(m)[1] == name]
    if len(matches) != 1:
        why = "several models are" if matches else "no model is"
        raise UnknownNameError(f"{why} called {name!r}: give '<base>+<name>' (trained models: "
                               f"{', '.join(models) or 'none yet'})")
    return matches[0]


def use(img1_path: ImageSource, img2_path: ImageSource, model_name: str, *,
        face_crop: bool | tuple[bool, bool] = False, flip: bool = False, distance_name: str = "euclidean",
        threshold: float | None = None) -> VerificationResult:
    """Are the largest faces of two images the same person, by a trained model? Truthy when same.

    A pair classifier decides with its own probability (``threshold`` defaults to 0.5 on
    ``1 - probability``); a metric head is compared with ``distance_name`` at its calibrated threshold.
    """
    name = resolve_model_name(model_name)
    pipe = get_pipeline(name)
    encoder = pipe.encoder
    if not isinstance(encoder, TrainedPairEncoder):
        return verification(img1_path, img2_path, encoder_name=name, distance_name=distance_name,
                            threshold=threshold, face_crop=face_crop, flip=flip, pipeline=pipe)
    crops = face_crop if isinstance(face_crop, tuple) else (face_crop, face_crop)
    faces1 = faces_in(pipe, img1_path, crops[0], flip)
    faces2 = faces_in(pipe, img2_path, crops[1], flip)
    probability = float(encoder.pair_probability(faces1[0].embedding, faces2[0].embedding)[0])
    limit = encoder.decision_threshold if threshold is None else float(threshold)
    score = 1.0 - probability
    return PairVerificationResult(verified=is_same_person(score, limit), distance=score, threshold=float(limit),
                                  threshold_provisional=False, encoder_name=name, distance_name=PAIR_SCORE,
                                  faces1=faces1, faces2=faces2, probability=probability)
