"""Aligned face chips from five landmarks, identical to ``dlib.get_face_chip``.

The geometry follows dlib/image_transforms/interpolation.h (``get_face_chip_details``,
``chip_details``, ``extract_image_chips``) in dlib's evaluation order: the landmarks are fitted to
dlib's template with dlib's similarity transform; the chip's rectangle is grown into a bounding
box that dlib crops out of the image; when the chip is much smaller than its rectangle the crop is
halved with ``pyramid_down<2>`` (a [1 4 6 4 1] filter, integer arithmetic) until it is not; the
chip is sampled bilinearly from that level, truncated to uint8, black outside. Only the crop is
ever processed, so a chip from a 12-megapixel photo costs about as much as dlib's; the pixel work
is in :mod:`chip_pixels`.

``face_chips`` extracts every face on its own, like ``dlib.get_face_chip`` called once per face
(dlib's own ``get_face_chips`` shares one crop between all faces, which can change a chip slightly
when the pyramid is used).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .pixels import pyramid_down2, sample_bilinear
from ..dlib.geometry import affine_from_pinv, apply_affine, pinv
from ..dlib.similarity import SimilarityFit

# dlib's template for its 5-point model, (x, y) in the unit square, in landmark order.
TEMPLATE_5 = (
    (0.8595674595992, 0.2134981538014),
    (0.6460604764104, 0.2289674387677),
    (0.1205750620789, 0.2137274526848),
    (0.3340850613712, 0.2290642403242),
    (0.4901123135679, 0.6277975316475),
)
Rect = tuple[float, float, float, float]  # dlib drectangle: left, top, right, bottom (inclusive)


@dataclass(frozen=True)
class ChipDetails:
    """Where a chip comes from: a rectangle in the image, rotated by ``angle`` about its centre."""

    rect: Rect
    angle: float  # radians
    rows: int
    cols: int


def chip_transform(landmarks: np.ndarray, size: int = 150, padding: float = 0.25) -> ChipDetails:
    """dlib's ``get_face_chip_details`` for five landmarks ``(5, 2)`` (x, y) in image pixels."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (5, 2) or not np.all(np.isfinite(lm)):
        raise ValueError(f"expected five finite (x, y) landmarks, got an array of shape {lm.shape}")
    size = int(size)
    if size < 1 or not padding >= 0:
        raise ValueError(f"chip size must be positive and padding non-negative (got {size}, {padding})")
    padding = float(np.float32(padding))  # dlib's Python binding takes padding as a C float
    (m00, m01, m10, m11), t = _template_fit(size, padding)(lm[:, 0].tolist(), lm[:, 1].tolist())
    tform = (m00, m01, m10, m11), t
    px, py = m00 * 1.0 + m01 * 0.0, m10 * 1.0 + m11 * 0.0
    scale = math.sqrt(px * px + py * py)
    cx, cy = apply_affine(tform, size / 2.0, size / 2.0)
    width = size * scale - 1
    height = size * scale - 1
    rect = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    return ChipDetails(rect=rect, angle=math.atan2(py, px), rows=size, cols=size)


@functools.lru_cache(maxsize=32)
def _template_fit(size: int, padding: float) -> SimilarityFit:
    """The similarity fit from dlib's template, scaled to the chip, to any five landmarks."""
    inv = 1.0 / (2 * padding + 1)
    return SimilarityFit([((padding + x) * inv * size, (padding + y) * inv * size) for x, y in TEMPLATE_5])


# ---- dlib's drectangle helpers --------------------------------------------------------------

def _width(r: Rect) -> float:
    return 0.0 if r[1] > r[3] or r[0] > r[2] else r[2] - r[0] + 1


def _height(r: Rect) -> float:
    return 0.0 if r[1] > r[3] or r[0] > r[2] else r[3] - r[1] + 1


def _area(r: Rect) -> float:
    return _width(r) * _height(r)


def _rect_down(r: Rect) -> Rect:
    """``pyramid_down<2>::rect_down``: each corner p goes to p/2 - (1.25, 0.75)."""
    l, t, rr, b = r
    x1, y1, x2, y2 = l / 2.0 - 1.25, t / 2.0 - 0.75, rr / 2.0 - 1.25, b / 2.0 - 0.75
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _center(r: Rect) -> tuple[float, float]:
    return (r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0


def _rotate_point(center: tuple[float, float], p: tuple[float, float], sin_a: float, cos_a: float):
    dx, dy = p[0] - center[0], p[1] - center[1]
    return (cos_a * dx - sin_a * dy) + center[0], (sin_a * dx + cos_a * dy) + center[1]


def _lround(v: float) -> int:
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


# ---- the chip ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _corner_pinv(rows: int, cols: int):
    """pinv of the chip's tl, tr, bl corners (find_affine_transform's fixed side)."""
    return pinv([[0.0, cols - 1.0, 0.0], [0.0, 0.0, rows - 1.0], [1.0, 1.0, 1.0]])


def _basic_chip(image: np.ndarray, rect: Rect) -> np.ndarray:
    """dlib's plain copy when the chip is neither rotated nor scaled (zeros outside the image)."""
    l, t, r, b = (_lround(v) for v in rect)
    h, w = image.shape[:2]
    out = np.zeros((max(b - t + 1, 0), max(r - l + 1, 0), image.shape[2]), dtype=np.uint8)
    il, it, ir, ib = max(l, 0), max(t, 0), min(r, w - 1), min(b, h - 1)
    if il <= ir and it <= ib:
        out[it - t:ib - t + 1, il - l:ir - l + 1] = image[it:ib + 1, il:ir + 1]
    return out


def extract_chip(image: np.ndarray, details: ChipDetails) -> np.ndarray:
    """dlib's ``extract_image_chip`` (bilinear) for one chip; ``image`` uint8 (H, W, C)."""
    rows, cols = details.rows, details.cols
    rect, angle = details.rect, details.angle
    size = rows * cols
    if angle == 0 and rows == _height(rect) and cols == _width(rect):
        return _basic_chip(image, rect)
    # the pyramid depth and the crop dlib takes around the rotated rectangle
    down, grow = _rect_down(rect), 2.0
    while _area(down) > size:
        down, grow = _rect_down(down), grow * 2 + 2
    sin_a, cos_a = math.sin(angle), math.cos(angle)
    cent = _center(rect)
    corners = [_rotate_point(cent, p, sin_a, cos_a)
               for p in ((rect[0], rect[1]), (rect[2], rect[1]), (rect[0], rect[3]), (rect[2], rect[3]))]
    h, w = image.shape[:2]
    box = (max(min(p[0] for p in corners) - grow, 0.0), max(min(p[1] for p in corners) - grow, 0.0),
           min(max(p[0] for p in corners) + grow, w - 1.0), min(max(p[1] for p in corners) + grow, h - 1.0))
    bl, bt, br, bb = (_lround(v) for v in box)
    if bl > br or bt > bb:
        return np.zeros((rows, cols, image.shape[2]), dtype=np.uint8)
    # the pyramid level dlib samples from, and the chip's rectangle in it
    r = (rect[0] + -bl, rect[1] + -bt, rect[2] + -bl, rect[3] + -bt)
    level = -1
    while _area(_rect_down(r)) > size:
        level += 1
        r = _rect_down(r)
    cent = _center(r)
    to = [_rotate_point(cent, p, sin_a, cos_a) for p in ((r[0], r[1]), (r[2], r[1]), (r[0], r[3]))]
    tform = affine_from_pinv(_corner_pinv(rows, cols), to)
    if level < 0:  # sample the crop in place
        return sample_bilinear(image, bt, bl, bb - bt + 1, br - bl + 1, tform, rows, cols)
    level_img = image[bt:bb + 1, bl:br + 1]
    for _ in range(level + 1):
        level_img = pyramid_down2(level_img)
    return sample_bilinear(level_img, 0, 0, level_img.shape[0], level_img.shape[1], tform, rows, cols)


def _as_channels(image: np.ndarray) -> tuple[np.ndarray, bool]:
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected a uint8 RGB (H, W, 3) or grey (H, W) image, got {image.dtype} {image.shape}")
    return (image[:, :, None], True) if image.ndim == 2 else (image, False)


def face_chip(image: np.ndarray, landmarks: np.ndarray, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """The aligned chip ``(size, size, 3)`` uint8 of one face, as ``dlib.get_face_chip``."""
    img, grey = _as_channels(image)
    chip = extract_chip(img, chip_transform(landmarks, size, padding))
    return chip[:, :, 0] if grey else chip


def face_chips(image: np.ndarray, landmarks_list: Sequence[np.ndarray], size: int = 150,
               padding: float = 0.25) -> np.ndarray:
    """Chips of several faces of one image, ``(N, size, size, 3)`` uint8, each as ``face_chip``."""
    img, grey = _as_channels(image)
    chips = np.zeros((len(landmarks_list), size, size, img.shape[2]), dtype=np.uint8)
    for i, lm in enumerate(landmarks_list):
        chips[i] = extract_chip(img, chip_transform(lm, size, padding))
    return chips[..., 0] if grey else chips


def dlib_chips(image: np.ndarray, faces: Sequence, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """dlib-style chips ``(N, size, size, 3)`` for faces (objects with dlib ``landmarks``); N may be 0."""
    if not len(faces):
        return np.zeros((0, size, size, 3), dtype=np.uint8)
    return face_chips(image, [f.landmarks for f in faces], size=size, padding=padding)
