"""Worker-side work of the Compare page: decode a photo, find its faces, embed them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QImage

from ..widgets.qimage import downscaled, qimage_from_array

if TYPE_CHECKING:
    from facereid_engine.faces import Face

#: Long side of the copy shown on screen; faces are found and cut from the full-resolution image.
DISPLAY_SIDE = 1600
#: Geometry of the chip shown to the user (dlib's), whatever the encoder wants.
CHIP_SIZE, CHIP_PADDING = 150, 0.25


@dataclass(eq=False)
class Photo:
    """One analysed photo. ``embeddings`` maps an encoder name to (faces, dim) vectors."""

    path: str
    image: np.ndarray = field(repr=False)
    display: QImage = field(repr=False)
    display_scale: float
    faces: list[Face]
    chips: list[QImage] = field(repr=False)
    whole_image: bool = False
    detector: str = "mmod"
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.image.shape[:2]
        return width, height


@dataclass
class Analysis:
    """What ``analyse_photo`` returns: the photo, and why it could not be embedded, if it could not."""

    photo: Photo
    encoder: str | None
    embed_error: BaseException | None = None


def _pipeline(encoder: str, detector: str):
    from facereid_engine.pipeline import get_pipeline
    return get_pipeline(encoder, detector=detector)


def analyse_photo(path: str | os.PathLike, encoder: str | None, whole_image: bool = False,
                  detector: str = "mmod") -> Analysis:
    """Decode ``path``, find every face (largest first) with ``detector`` and embed them with
    ``encoder`` (None: not yet, when the encoder chosen cannot be used here).

    Raises ``ImageLoadError`` for a file that is not a readable image and ``NoFaceFoundError`` when
    no face is found; a failure to embed (weights unavailable) is returned in ``embed_error`` so that
    the photo and its faces can still be shown.
    """
    from facereid_engine.encoders import DEFAULT_ENCODER
    from facereid_engine.errors import NoFaceFoundError
    from facereid_engine.images import load_image

    path = os.fspath(path)
    image = load_image(path)
    finder = _pipeline(DEFAULT_ENCODER, detector)  # detection and landmarks do not depend on the encoder
    if whole_image:
        faces = [finder.whole_image_face(image)]
    else:
        faces = sorted(finder.find_faces(image, at_least_one=True), key=lambda f: -f.area)  # a face is expected
    if not faces:
        raise NoFaceFoundError(path, "no face found in this photo")
    chips = finder.chips(image, faces, size=CHIP_SIZE, padding=CHIP_PADDING)
    shown, scale = downscaled(image, DISPLAY_SIDE)
    photo = Photo(path, image, qimage_from_array(shown), scale, faces,
                  [qimage_from_array(c) for c in chips], whole_image, detector)
    if encoder is None:
        return Analysis(photo, encoder)
    try:
        photo.embeddings[encoder] = embed_photo(photo, encoder)
    except Exception as exc:  # shown in the pane in words; the photo itself is fine
        return Analysis(photo, encoder, exc)
    return Analysis(photo, encoder)


def embed_photo(photo: Photo, encoder: str) -> np.ndarray:
    """(faces, dim) embeddings of the photo's faces with ``encoder``."""
    faces = _pipeline(encoder, photo.detector).embed_faces(photo.image, photo.faces)
    return np.stack([f.embedding for f in faces]).astype(np.float32)


def closest_pair(a: np.ndarray, b: np.ndarray, distance: str, fixed: tuple[int | None, int | None] = (None, None)
                 ) -> tuple[int, int]:
    """(i, j): the faces of ``a`` and ``b`` (rows of vectors) at the smallest ``distance``, as
    ``facereid verify --closest`` chooses them; a side given in ``fixed`` keeps that face."""
    from facereid_engine.distances import matrix

    rows = range(len(a)) if fixed[0] is None else [fixed[0]]
    cols = range(len(b)) if fixed[1] is None else [fixed[1]]
    d = matrix(a[list(rows)], b[list(cols)], distance)
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    return list(rows)[int(i)], list(cols)[int(j)]
