"""Are the faces in two images the same person? The study's ``verification`` call, made useful."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .distances import canonical_distance, distance as _distance, is_same_person, matrix
from .encoders import DEFAULT_ENCODER
from .errors import NoFaceFoundError
from .faces import Face
from .images import load_image
from .pipeline import FacePipeline, get_pipeline
from .thresholds import default_threshold

ImageSource = str | os.PathLike | bytes | np.ndarray


@dataclass
class VerificationResult:
    """The verdict; truthy when the two faces are the same person."""

    verified: bool
    distance: float
    threshold: float
    threshold_provisional: bool
    encoder_name: str
    distance_name: str
    faces1: list[Face] = field(repr=False)
    faces2: list[Face] = field(repr=False)
    face1_index: int = 0
    face2_index: int = 0

    def __bool__(self) -> bool:
        return self.verified

    @property
    def face1(self) -> Face:
        return self.faces1[self.face1_index]

    @property
    def face2(self) -> Face:
        return self.faces2[self.face2_index]

    def to_json(self) -> dict:
        return {
            "verified": self.verified,
            "distance": round(self.distance, 6),
            "threshold": self.threshold,
            "threshold_provisional": self.threshold_provisional,
            "encoder": self.encoder_name,
            "distance_name": self.distance_name,
            "face1": self.face1_index,
            "face2": self.face2_index,
            "faces1": [f.to_json() for f in self.faces1],
            "faces2": [f.to_json() for f in self.faces2],
        }


def _as_image(source: ImageSource) -> tuple[np.ndarray, str | None]:
    if isinstance(source, np.ndarray):
        return source, None
    name = None if isinstance(source, bytes) else os.fspath(source)
    return load_image(source), name


def faces_in(pipeline: FacePipeline, source: ImageSource, face_crop: bool = False,
             flip: bool = False) -> list[Face]:
    """Every face of one image, embedded, largest first; the whole image when ``face_crop``. A face is
    expected, so YuNet looks again at a lower score before giving up (see ``FacePipeline.detect_many``)."""
    image, name = _as_image(source)
    faces = [pipeline.whole_image_face(image)] if face_crop else pipeline.find_faces(image, at_least_one=True)
    if not faces:
        raise NoFaceFoundError(name, "no face found (if the image is already a face crop, say so: "
                                     "face_crop=True / --face-crop)")
    faces.sort(key=lambda f: -f.area)
    return pipeline.embed_faces(image, faces, flip=flip)


def verification(img1_path: ImageSource, img2_path: ImageSource, encoder_name: str = DEFAULT_ENCODER,
                 distance_name: str = "euclidean", threshold: float | None = None, *,
                 face_crop: bool | tuple[bool, bool] = False,
                 compare: Literal["largest", "closest"] = "largest", flip: bool = False,
                 pipeline: FacePipeline | None = None) -> VerificationResult:
    """Compare the faces of two images.

    Args:
        img1_path, img2_path: image files (or bytes, or RGB uint8 arrays).
        encoder_name: ``dlib`` (default) or any name from ``available_encoders()``.
        distance_name: ``euclidean``, ``euclidean_l2`` or ``cosine``.
        threshold: same person when distance <= threshold; ``None`` takes the calibrated default.
        face_crop: the image(s) are already face crops: use the whole image as the face.
        compare: ``largest`` compares the largest face of each image; ``closest`` compares every
            pair of faces and reports the closest.
        flip: also embed the mirrored faces and average (slightly more accurate, twice the cost).
    """
    distance_name = canonical_distance(distance_name)
    pipe = pipeline or get_pipeline(encoder_name)
    crops = face_crop if isinstance(face_crop, tuple) else (face_crop, face_crop)
    faces1 = faces_in(pipe, img1_path, crops[0], flip)
    faces2 = faces_in(pipe, img2_path, crops[1], flip)
    provisional = False
    if threshold is None:
        threshold, provisional = default_threshold(pipe.encoder_name, distance_name)
    if compare == "closest":
        d = matrix(np.stack([f.embedding for f in faces1]), np.stack([f.embedding for f in faces2]),
                   distance_name)
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        value = float(d[i, j])
    elif compare == "largest":
        i, j = 0, 0
        value = _distance(faces1[0].embedding, faces2[0].embedding, distance_name)
    else:
        raise ValueError(f"compare must be 'largest' or 'closest', not {compare!r}")
    return VerificationResult(
        verified=is_same_person(value, threshold), distance=value,
        threshold=float(threshold), threshold_provisional=provisional,
        encoder_name=pipe.encoder_name, distance_name=distance_name,
        faces1=faces1, faces2=faces2, face1_index=int(i), face2_index=int(j))
