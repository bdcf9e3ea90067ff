"""What the pipeline finds in an image: a face's box, detection score, landmarks, embedding."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]  # dlib's inclusive (left, top, right, bottom), original image pixels


@dataclass(frozen=True)
class Detection:
    box: Box
    score: float

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0] + 1

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1] + 1

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)


@dataclass(frozen=True, eq=False)
class Face(Detection):
    """A detected face: dlib's five landmarks ((5, 2) float, x then y: the eyes' outer and inner
    corners and the base of the nose), YuNet's five keypoints when YuNet found it (eye centres, nose
    tip, mouth corners; see :mod:`facereid_engine.detect.yunet`) and, once embedded, its embedding."""

    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = field(default=None, repr=False)
    keypoints: np.ndarray | None = field(default=None, repr=False)

    def to_json(self, with_embedding: bool = False) -> dict:
        out: dict = {"box": [int(v) for v in self.box], "score": round(float(self.score), 6)}
        if self.landmarks is not None:
            out["landmarks"] = [[round(float(x), 3), round(float(y), 3)] for x, y in self.landmarks]
        if self.keypoints is not None:
            out["keypoints"] = [[round(float(x), 3), round(float(y), 3)] for x, y in self.keypoints]
        if with_embedding and self.embedding is not None:
            out["embedding"] = [round(float(v), 7) for v in self.embedding]
        return out
