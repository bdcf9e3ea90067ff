"""image -> faces (box, score, landmarks) -> aligned chips -> embeddings.

:class:`FacePipeline` ties the detector, the 5-point shape predictor, the chip cutter and one
encoder together. Models are loaded on first use and shared (the loaders cache them).
"""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
from PIL import Image

from .alignment.chips import dlib_chips
from .defaults import DEFAULT_DETECTOR, DETECTORS
from .detect import load_detector
from .detect.yunet import YuNetDetector
from .encoders import DEFAULT_ENCODER, Encoder, get_encoder
from .errors import UnknownNameError
from .faces import Box, Detection, Face
from .landmarks.predictor import load_shape_predictor

# Photos larger than this (long side, pixels) are detected on a downscaled copy; landmarks and
# chips always come from the full-resolution image. 2048 keeps faces of ~80 px and more in a
# 12-megapixel photo findable at a fraction of the cost of the full image.
DEFAULT_MAX_SIDE = 2048


# YuNet finds faces from about 10 to 330 px wide in the image it is given (measured on LFW faces
# resized: none above ~330 px). It runs on a copy of at most 640 px (finds faces down to ~1.6% of the
# photo's long side; 13x quicker than MMOD at 2048 on a 12 MP photo, benchmarks/bench_detectors.py)
# and, for larger photos, once more on a 320 px copy for faces that fill the frame; the two are
# merged by non-maximum suppression.
YUNET_MAX_SIDE = 640
YUNET_COARSE_SIDE = 320
# For an image known to hold a face (detect_many(at_least_one=True)) where YuNet finds none at
# OpenCV's 0.9: LFW View 1 has 53 such images of 4,992, and every one of them has its face at 0.8.
YUNET_RESCUE_THRESHOLD = 0.7
_MERGE_IOU = 0.3

# Small pictures (scans of prints, thumbnails, web images) are doubled before detection until their
# short side reaches this (at most AUTO_UPSAMPLE_MAX times), so that a face filling the picture is
# found: MMOD misses faces under ~60 px, YuNet under ~10 px but is surer above ~40 px.
AUTO_UPSAMPLE_SIDE = {"mmod": 200, "yunet": 128}
AUTO_UPSAMPLE_MAX = 2


def _scale_box(box: Box, sx: float, sy: float) -> Box:
    """Map an inclusive box found on an image scaled by ``sx``, ``sy`` back to the original image."""
    l, t, r, b = box
    nl, nt = round(l / sx), round(t / sy)
    nr, nb = round((r + 1) / sx) - 1, round((b + 1) / sy) - 1
    return (int(nl), int(nt), int(max(nr, nl)), int(max(nb, nt)))


# YuNet's boxes are taller than MMOD's (forehead to chin): dlib's shape predictor, trained on MMOD's
# square boxes, gets the box MMOD would give. Median ratios measured on 296 LFW faces found by both
# (benchmarks/bench_detectors.py): MMOD's centre is 3.6% of YuNet's width left and 1.2% of its height
# up, its width 1.043x YuNet's width and its height 0.79x YuNet's height.
_MMOD_FROM_YUNET = (-0.036, -0.012, 1.043, 0.79)


def mmod_like_box(box: Box) -> Box:
    """The box MMOD would put around the face YuNet boxed as ``box``."""
    l, t, r, b = box
    w, h = r - l + 1, b - t + 1
    dx, dy, fw, fh = _MMOD_FROM_YUNET
    cx, cy = (l + r) / 2 + dx * w, (t + b) / 2 + dy * h
    nw, nh = fw * w, fh * h
    return (round(cx - (nw - 1) / 2), round(cy - (nh - 1) / 2), round(cx + (nw - 1) / 2), round(cy + (nh - 1) / 2))


class FacePipeline:
    """Find, align and embed faces with one detector and one encoder.

    Args:
        encoder: an encoder name from :func:`~facereid_engine.encoders.available_encoders` or an
            :class:`~facereid_engine.encoders.Encoder`.
        detector: ``mmod`` (dlib's CNN, exact to dlib) or ``yunet`` (OpenCV Zoo's YuNet: faster, finds
            profiles, gives the five keypoints SFace is aligned on). dlib's five landmarks always come
            from dlib's shape predictor, inside the box the detector found.
        upsample: how many times the image is doubled before detection (finds smaller faces);
            ``None`` (the default) doubles small pictures only (see :data:`AUTO_UPSAMPLE_SIDE`).
        max_side: detect on a copy scaled down to this long side (``None``: always full size).
        device: torch device for the detector and encoder (default: the best available).
    """

    def __init__(self, encoder: str | Encoder = DEFAULT_ENCODER, *, detector: str = DEFAULT_DETECTOR,
                 upsample: int | None = None, max_side: int | None = DEFAULT_MAX_SIDE, device=None):
        if detector not in DETECTORS:
            raise UnknownNameError(f"unknown detector {detector!r}: choose one of {', '.join(DETECTORS)}")
        self._encoder_name = encoder if isinstance(encoder, str) else encoder.name
        self._encoder = encoder if isinstance(encoder, Encoder) else None
        self.detector_name = detector
        self.upsample = None if upsample is None else int(upsample)
        if detector == "yunet" and max_side == DEFAULT_MAX_SIDE:
            max_side = YUNET_MAX_SIDE  # each detector's own default
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
            if self.detector_name == "yunet":
                self._detector = YuNetDetector(device=self.device, max_side=None)
            else:
                self._detector = load_detector(device=self.device)
        return self._detector

    @property
    def shape_predictor(self):
        if self._shape_predictor is None:
            self._shape_predictor = load_shape_predictor()
        return self._shape_predictor

    # -- stages ------------------------------------------------------------------------------
    def upsample_for(self, image: np.ndarray) -> int:
        """How many times ``image`` is doubled before detection (the fixed ``upsample``, else the
        automatic rule for small pictures)."""
        if self.upsample is not None:
            return self.upsample
        short, n = min(image.shape[:2]), 0
        while n < AUTO_UPSAMPLE_MAX and short * 2 ** n < AUTO_UPSAMPLE_SIDE[self.detector_name]:
            n += 1
        return n

    def _scale(self, image: np.ndarray) -> float:
        """The factor the image is resized by for detection (upsampling included for YuNet)."""
        long_side = max(image.shape[:2])
        scale = 1.0 if self.max_side is None or long_side <= self.max_side else self.max_side / long_side
        if self.detector_name == "yunet":
            scale *= 2 ** self.upsample_for(image)  # MMOD upsamples inside, as dlib does
        return scale

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Face boxes and scores (YuNet: Faces with their keypoints), best score first."""
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray], *, at_least_one: bool = False) -> list[list[Detection]]:
        """:meth:`detect` for several images, one network pass per size where the detector allows.

        ``at_least_one``: the images are known to hold a face (a pair file's images, a Compare pane), so
        where YuNet finds none at OpenCV's score threshold (0.9) the faces above
        :data:`YUNET_RESCUE_THRESHOLD` are taken instead. MMOD is left exact to dlib.
        """
        found = self._detect_many(images)
        if at_least_one and self.detector_name == "yunet":
            found = [f if f else self._detect_scaled(im, self._scale(im), YUNET_RESCUE_THRESHOLD)
                     for im, f in zip(images, found)]
        return found

    def _detect_many(self, images: list[np.ndarray]) -> list[list[Detection]]:
        scales = [self._scale(im) for im in images]
        coarse = self.detector_name == "yunet" and any(max(im.shape[:2]) * s > YUNET_COARSE_SIDE
                                                        for im, s in zip(images, scales))
        ups = {self.upsample_for(im) for im in images} if self.detector_name == "mmod" else {0}
        if all(s == 1.0 for s in scales) and not coarse and len(ups) == 1:
            if self.detector_name == "yunet":
                return [_yunet_faces(found) for found in self.detector.detect_batch(images)]
            return self.detector.detect_batch(images, upsample=ups.pop())
        return [self._detect_scaled(im, s) for im, s in zip(images, scales)]

    def _detect_scaled(self, image: np.ndarray, scale: float, threshold: float | None = None) -> list[Detection]:
        if self.detector_name == "yunet":
            found = self._yunet_at(image, scale, threshold)
            long_side = max(image.shape[:2])
            if long_side * scale > YUNET_COARSE_SIDE:
                found = _merge(found + self._yunet_at(image, YUNET_COARSE_SIDE / long_side, threshold))
            return found
        height, width = image.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        found = self.detector.detect(resized, upsample=self.upsample_for(resized))
        return [Detection(_scale_box(d.box, scale, scale), d.score) for d in found]

    def _yunet_at(self, image: np.ndarray, scale: float, threshold: float | None = None) -> list[Face]:
        if scale == 1.0:
            return _yunet_faces(self.detector.detect(image, threshold))
        height, width = image.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        return _yunet_faces(self.detector.detect(resized, threshold), size[0] / width, size[1] / height)

    def landmarks(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(N, 5, 2) dlib landmarks for dlib-style boxes."""
        if not boxes:
            return np.zeros((0, 5, 2))
        return self.shape_predictor.predict_many(image, boxes)

    def complete(self, image: np.ndarray, found: list[Detection]) -> list[Face]:
        """Faces with dlib's landmarks (and YuNet's keypoints, when YuNet found them)."""
        keypoints = [_keypoints(d) for d in found]
        boxes = [d.box if k is None else mmod_like_box(d.box) for d, k in zip(found, keypoints)]
        points = self.landmarks(image, boxes)
        return [Face(d.box, d.score, p, keypoints=k) for d, p, k in zip(found, points, keypoints)]

    def find_faces(self, image: np.ndarray, *, at_least_one: bool = False) -> list[Face]:
        """Every face in the image with its landmarks, best detection score first (``at_least_one``:
        see :meth:`detect_many`)."""
        return self.complete(image, self.detect_many([image], at_least_one=at_least_one)[0])

    def whole_image_face(self, image: np.ndarray) -> Face:
        """Treat the whole image as one face (for images that are already face crops)."""
        height, width = image.shape[:2]
        box = (0, 0, width - 1, height - 1)
        return Face(box, float("nan"), self.landmarks(image, [box])[0])

    def chips(self, image: np.ndarray, faces: list[Face], size: int | None = None,
              padding: float | None = None) -> np.ndarray:
        """The encoder's aligned chips for the faces; with ``size`` / ``padding``, dlib-style chips of that
        geometry instead (for display)."""
        if size is None and padding is None:
            return self.encoder.chips(image, faces)
        size = self.encoder.chip_size if size is None else size
        padding = self.encoder.chip_padding if padding is None else padding
        return dlib_chips(image, faces, size, padding)

    def embed_chips(self, chips: np.ndarray, flip: bool = False) -> np.ndarray:
        """Embeddings of chips; with ``flip`` the mirrored chips' embeddings are averaged in."""
        vectors = self.encoder.embed(chips)
        if flip and len(chips):
            vectors = (vectors + self.encoder.embed(self.encoder.mirror(chips))) / 2
        return vectors

    def embed_faces(self, image: np.ndarray, faces: list[Face], flip: bool = False) -> list[Face]:
        """The faces with their ``embedding`` filled in."""
        vectors = self.embed_chips(self.chips(image, faces), flip=flip)
        return [dataclasses.replace(f, embedding=v) for f, v in zip(faces, vectors)]

    def analyse(self, image: np.ndarray, flip: bool = False) -> list[Face]:
        """Find and embed every face."""
        return self.embed_faces(image, self.find_faces(image), flip=flip)


def _yunet_faces(found: list[Face], sx: float = 1.0, sy: float = 1.0) -> list[Face]:
    """YuNet's faces (its five points in ``landmarks``) as pipeline faces: the points become
    ``keypoints``; with a scale, box and points go back to the original image."""
    if sx == 1.0 and sy == 1.0:
        return [Face(d.box, d.score, keypoints=d.landmarks) for d in found]
    return [Face(_scale_box(d.box, sx, sy), d.score, keypoints=d.landmarks / (sx, sy)) for d in found]


def _iou(a: Box, b: Box) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(iw, 0) * max(ih, 0)
    union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter
    return inter / union if union > 0 else 0.0


def _merge(faces: list[Face]) -> list[Face]:
    """Faces found at two scales: the best-scoring of each overlapping group, best first."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(_iou(face.box, k.box) <= _MERGE_IOU for k in kept):
            kept.append(face)
    return kept


def _keypoints(found: Detection) -> np.ndarray | None:
    return getattr(found, "keypoints", None)


_pipelines: dict[tuple, FacePipeline] = {}
_pipelines_lock = threading.Lock()


def get_pipeline(encoder_name: str = DEFAULT_ENCODER, **options) -> FacePipeline:
    """The shared pipeline for an encoder and options (models load once per process)."""
    key = (encoder_name, tuple(sorted(options.items())))
    with _pipelines_lock:
        if key not in _pipelines:
            _pipelines[key] = FacePipeline(encoder_name, **options)
        return _pipelines[key]
