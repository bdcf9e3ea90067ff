"""SFace's 112x112 chip from five landmarks, as OpenCV's ``FaceRecognizerSF::alignCrop`` cuts it.

1. :func:`similarity_transform`: the least-squares similarity (Umeyama) from the five landmarks to
   the ArcFace template, with OpenCV's arithmetic (float32 means and products, float64 sums, a 2x2
   SVD) and OpenCV's quirk of a fixed template mean (56.0262, 71.9008), not the template's own.
2. :func:`warp_affine`: bilinear sampling of the source at the inverse-mapped pixel centres, with
   OpenCV's 8-bit fixed point (1/32-pixel positions, 15-bit weights) and black outside the image.

The landmarks are YuNet's order: right eye, left eye, nose tip, right and left mouth corners (the
person's right eye is on the image's left).
"""
from __future__ import annotations

import numpy as np

CHIP_SIZE = 112
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)
TEMPLATE_MEAN = np.array([56.0262, 71.9008], dtype=np.float32)  # as OpenCV has it (not TEMPLATE.mean)
_FLT_MIN = np.finfo(np.float32).tiny
_INTER_BITS = 5  # positions in 1/32 pixel
_AB_BITS = 10  # the affine map in 1/1024 pixel
_COEF_BITS = 15  # weights sum to 1 << 15


def similarity_transform(landmarks: np.ndarray) -> np.ndarray:
    """The 2x3 float64 matrix mapping image points to chip points, for (5, 2) landmarks."""
    src = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    src_mean = np.array([(src[0, k] + src[1, k] + src[2, k] + src[3, k] + src[4, k]) / np.float32(5)
                         for k in range(2)], dtype=np.float32)  # summed left to right, in float32
    src_d = src - src_mean
    dst_d = TEMPLATE - TEMPLATE_MEAN
    a = np.empty((2, 2))
    for r in range(2):
        for c in range(2):
            total = 0.0
            for i in range(5):  # a float32 product added to a float64 sum
                total += float(dst_d[i, r] * src_d[i, c])
            a[r, c] = total / 5
    d = np.array([1.0, 1.0])
    if a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0] < 0:
        d[1] = -1.0
    u, s, vt = np.linalg.svd(a)
    tol = max(s[0], s[1]) * 2 * float(_FLT_MIN)
    rank = int(s[0] > tol) + int(s[1] > tol)
    if rank == 1 and np.linalg.det(u) * np.linalg.det(vt) > 0:
        t = u @ vt
    elif rank == 1:
        t = u @ np.diag([d[0], -1.0]) @ vt
    else:
        t = u @ np.diag(d) @ vt
    var = sum(float(src_d[i, 0] * src_d[i, 0]) for i in range(5)) / 5 + \
        sum(float(src_d[i, 1] * src_d[i, 1]) for i in range(5)) / 5
    scale = 1.0 / var * (s[0] * d[0] + s[1] * d[1])
    mean = src_mean.astype(np.float64)
    shift = TEMPLATE_MEAN.astype(np.float64) - scale * (t @ mean)
    return np.hstack([t * scale, shift[:, None]])


def _invert_affine(m: np.ndarray) -> np.ndarray:
    """OpenCV's ``invertAffineTransform`` (float64)."""
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    det = 1.0 / det if det != 0 else 0.0
    a11, a22 = m[1, 1] * det, m[0, 0] * det
    a12, a21 = -m[0, 1] * det, -m[1, 0] * det
    b1 = -a11 * m[0, 2] - a12 * m[1, 2]
    b2 = -a21 * m[0, 2] - a22 * m[1, 2]
    return np.array([[a11, a12, b1], [a21, a22, b2]])


def _round(x: np.ndarray) -> np.ndarray:
    """cvRound: to nearest, ties to even, as int64."""
    return np.rint(x).astype(np.int64)


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """``cv2.warpAffine(image, matrix, (size, size), INTER_LINEAR, BORDER_CONSTANT 0)`` for uint8 (H, W, C)."""
    inv = _invert_affine(np.asarray(matrix, dtype=np.float64))
    scale = 1 << _AB_BITS
    xs = np.arange(size, dtype=np.float64)
    adelta, bdelta = _round(inv[0, 0] * xs * scale), _round(inv[1, 0] * xs * scale)
    round_delta = scale >> (_INTER_BITS + 1)
    x0 = _round((inv[0, 1] * xs + inv[0, 2]) * scale) + round_delta  # per output row y
    y0 = _round((inv[1, 1] * xs + inv[1, 2]) * scale) + round_delta
    fx_all = (x0[:, None] + adelta[None, :]) >> (_AB_BITS - _INTER_BITS)  # (y, x) in 1/32 pixel
    fy_all = (y0[:, None] + bdelta[None, :]) >> (_AB_BITS - _INTER_BITS)
    tab = 1 << _INTER_BITS
    xi, ax = fx_all >> _INTER_BITS, fx_all & (tab - 1)
    yi, ay = fy_all >> _INTER_BITS, fy_all & (tab - 1)
    # the 15-bit weights of the four taps; exact, since (1/32)^2 * 2^15 is a whole number
    unit = (1 << _COEF_BITS) // (tab * tab)
    w = [(tab - ax) * (tab - ay) * unit, ax * (tab - ay) * unit, (tab - ax) * ay * unit, ax * ay * unit]
    h, wd = image.shape[:2]
    img = image.reshape(h, wd, -1).astype(np.int64)
    total = np.zeros((size, size, img.shape[2]), dtype=np.int64)
    for (dy, dx), weight in zip(((0, 0), (0, 1), (1, 0), (1, 1)), w):
        py, px = yi + dy, xi + dx
        inside = (py >= 0) & (py < h) & (px >= 0) & (px < wd)
        pixels = img[np.clip(py, 0, h - 1), np.clip(px, 0, wd - 1)] * inside[..., None]
        total += pixels * weight[..., None]
    out = np.clip((total + (1 << (_COEF_BITS - 1))) >> _COEF_BITS, 0, 255).astype(np.uint8)
    return out.reshape((size, size) + image.shape[2:])


def align_crop(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """One 112x112 chip (uint8, the image's channel order) for (5, 2) YuNet landmarks."""
    return warp_affine(image, similarity_transform(landmarks), CHIP_SIZE)


def align_crops(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Chips (N, 112, 112, C) for (N, 5, 2) landmarks."""
    points = np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2)
    if not len(points):
        return np.zeros((0, CHIP_SIZE, CHIP_SIZE) + image.shape[2:], dtype=np.uint8)
    return np.stack([align_crop(image, p) for p in points])


# Where dlib's five landmarks (outer and inner corner of each eye, base of the nose) fall in SFace's
# 112x112 frame: the mean over 296 LFW faces of dlib's landmarks mapped by the alignCrop transform of
# YuNet's keypoints (benchmarks/bench_detectors.py). Used when a face has no YuNet keypoints (found by
# MMOD, or stored by an older scan): the chip is then aligned on dlib's landmarks to this template.
DLIB_TEMPLATE = np.array([[79.296, 53.125], [65.338, 53.692], [30.098, 53.618], [44.054, 53.943],
                          [54.828, 80.297]])


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity (Umeyama, no reflection) mapping points ``src`` to ``dst``, 2x3."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    u, sv, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.array([1.0, 1.0 if np.linalg.det(u) * np.linalg.det(vt) > 0 else -1.0])
    rotation = u @ np.diag(sign) @ vt
    scale = (sv * sign).sum() / (s ** 2).sum(1).mean()
    return np.hstack([scale * rotation, (md - scale * rotation @ ms)[:, None]])


def sface_chips(image: np.ndarray, faces) -> np.ndarray:
    """SFace chips (N, 112, 112, 3) of faces: from YuNet's keypoints as alignCrop cuts them, else from
    dlib's landmarks fitted to :data:`DLIB_TEMPLATE`."""
    chips = np.zeros((len(faces), CHIP_SIZE, CHIP_SIZE) + image.shape[2:], dtype=np.uint8)
    for i, face in enumerate(faces):
        if getattr(face, "keypoints", None) is not None:
            chips[i] = align_crop(image, face.keypoints)
        else:
            chips[i] = warp_affine(image, fit_similarity(face.landmarks, DLIB_TEMPLATE), CHIP_SIZE)
    return chips
