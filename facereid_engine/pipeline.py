"""image -> faces (box, score, landmarks) -> aligned chips -> embeddings.

:class:`FacePipeline` ties the detector, the 5-point shape predictor, the chip cutter and one
encoder together. Models are loaded on first use and shared (the loaders cache them).
"""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
from PIL import Image

from .encoders import DEFAULT_ENCODER, Encoder, get_encoder
from .faces import Box, Detection, Face

# Photos larger than this (long side, pixels) are detected on a downscaled copy; landmarks and
# chips always come from the full-resolution image. 2048 keeps faces of ~80 px and more in a
# 12-megapixel photo findable at a fraction of the cost of the full image.
DEFAULT_MAX_SIDE = 2048


def _scale_box(box: Box, scale: float, width: int, height: int) -> Box:
    """Map an inclusive box found on an image scaled by ``scale`` back to the original image."""
    l, t, r, b = box
    nl, nt = round(l / scale), round(t / scale)
    nr, nb = round((r + 1) / scale) - 1, round((b + 1) / scale) - 1
    return (int(nl), int(nt), int(max(nr, nl)), int(max(nb, nt)))


class FacePipeline:
    """Find, align and embed faces with one encoder.

    Args:
        encoder: an encoder name from :func:`~facereid_engine.encoders.available_encoders` or an
            :class:`~facereid_engine.encoders.Encoder`.
        upsample: how many times the detector doubles the image first (finds faces under ~80 px).
        max_side: detect on a copy scaled down to this long side (``None``: always full size).
        device: torch device for the detector and encoder (default: the best available).
    """

    def __init__(self, encoder: str | Encoder = DEFAULT_ENCODER, *, upsample: int = 0,
                 max_side: int | None = DEFAULT_MAX_SIDE, device=None):
        self._encoder_name = encoder if isinstance(encoder, str) else encoder.name
        self._encoder = encoder if isinstance(encoder, Encoder) else None
        self.upsample = int(upsample)
        self.max_side = max_side
        self.device = device
        self._detector = None
        self._shape_predictor = None

    # -- lazily loaded parts ----------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = get_encoder(self._encoder_name, device=self.device)
        return self._encoder

    @property
    def encoder_name(self) -> str:
        return self._encoder_name

    @property
    def detector(self):
        if self._detector is None:
            from .detect import load_detector
            self._detector = load_detector(device=self.device)
        return self._detector

    @property
    def shape_predictor(self):
        if self._shape_predictor is None:
            from .landmarks.predictor import load_shape_predictor
            self._shape_predictor = load_shape_predictor()
        return self._shape_predictor

    # -- stages ------------------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> list[Detection]:
        """Face boxes and scores, in the detector's order (best score first)."""
        height, width = image.shape[:2]
        long_side = max(height, width)
        if self.max_side is None or long_side <= self.max_side:
            return self.detector.detect(image, upsample=self.upsample)
        scale = self.max_side / long_side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        found = self.detector.detect(small, upsample=self.upsample)
        return [Detection(_scale_box(d.box, scale, width, height), d.score) for d in found]

    def landmarks(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(N, 5, 2) landmarks for the boxes."""
        if not boxes:
            return np.zeros((0, 5, 2))
        return self.shape_predictor.predict_many(image, boxes)

    def find_faces(self, image: np.ndarray) -> list[Face]:
        """Every face in the image with its five landmarks, best detection score first."""
        found = self.detect(image)
        points = self.landmarks(image, [d.box for d in found])
        return [Face(d.box, d.score, p) for d, p in zip(found, points)]

    def whole_image_face(self, image: np.ndarray) -> Face:
        """Treat the whole image as one face (for images that are already face crops)."""
        height, width = image.shape[:2]
        box = (0, 0, width - 1, height - 1)
        return Face(box, float("nan"), self.landmarks(image, [box])[0])

    def chips(self, image: np.ndarray, faces: list[Face], size: int | None = None,
              padding: float | None = None) -> np.ndarray:
        """Aligned chips (N, S, S, 3) uint8 for the encoder (or the size and padding given)."""
        from .alignment.chips import face_chips
        size = self.encoder.chip_size if size is None else size
        padding = self.encoder.chip_padding if padding is None else padding
        if not faces:
            return np.zeros((0, size, size, 3), dtype=np.uint8)
        return face_chips(image, [f.landmarks for f in faces], size=size, padding=padding)

    def embed_chips(self, chips: np.ndarray, flip: bool = False) -> np.ndarray:
        """Embeddings of chips; with ``flip`` the mirrored chips' embeddings are averaged in."""
        vectors = self.encoder.embed(chips)
        if flip and len(chips):
            vectors = (vectors + self.encoder.embed(np.ascontiguousarray(chips[:, :, ::-1]))) / 2
        return vectors

    def embed_faces(self, image: np.ndarray, faces: list[Face], flip: bool = False) -> list[Face]:
        """The faces with their ``embedding`` filled in."""
        vectors = self.embed_chips(self.chips(image, faces), flip=flip)
        return [dataclasses.replace(f, embedding=v) for f, v in zip(faces, vectors)]

    def analyse(self, image: np.ndarray, flip: bool = False) -> list[Face]:
        """Find and embed every face."""
        return self.embed_faces(image, self.find_faces(image), flip=flip)


_pipelines: dict[tuple, FacePipeline] = {}
_pipelines_lock = threading.Lock()


def get_pipeline(encoder_name: str = DEFAULT_ENCODER, **options) -> FacePipeline:
    """The shared pipeline for an encoder and options (models load once per process)."""
    key = (encoder_name, tuple(sorted(options.items())))
    with _pipelines_lock:
        if key not in _pipelines:
            _pipelines[key] = FacePipeline(encoder_name, **options)
        return _pipelines[key]
