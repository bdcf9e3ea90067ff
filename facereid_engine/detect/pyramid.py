"""dlib's tiled image pyramid (``input_rgb_image_pyramid<pyramid_down<N>>``) and the upsampling step.

All the levels of the pyramid are packed into one image: the original at the top left, the smaller
levels stacked down the left column and then back up the right side, ``padding`` pixels apart, with
``outer_padding`` around everything. The network runs once over that image; each output cell is
mapped back to the level it falls in. Levels are made from the previous level's normalised float
planes with dlib's bilinear resize, which :mod:`.resample` reproduces exactly.
"""
from __future__ import annotations

import math

import numpy as np

from .resample import resize_float, resize_float_inplace, resize_rgb

Rect = tuple[int, int, int, int]  # inclusive (left, top, right, bottom), dlib's rectangle

MIN_LEVEL_HEIGHT = 5


def level_sizes(nr: int, nc: int, n: int) -> list[tuple[int, int]]:
    """(rows, cols) of every pyramid level: each floor((n-1)/n * size) of the previous, while >= 5 rows."""
    sizes = [(nr, nc)]
    rate = (n - 1.0) / n
    while True:
        nr, nc = math.floor(rate * nr), math.floor(rate * nc)
        if nr * nc == 0 or nr < MIN_LEVEL_HEIGHT:
            return sizes
        sizes.append((nr, nc))


def _height(r: Rect) -> int:
    return r[3] - r[1] + 1


def _width(r: Rect) -> int:
    return r[2] - r[0] + 1


def _u(v: int) -> int:
    """``v`` as C++ ``unsigned long`` (dlib's rectangle widths and heights are unsigned)."""
    return v % (1 << 64)


def _intersects(a: Rect, b: Rect) -> bool:
    return max(a[0], b[0]) <= min(a[2], b[2]) and max(a[1], b[1]) <= min(a[3], b[3])


def tiled_layout(nr: int, nc: int, n: int, padding: int, outer_padding: int) -> tuple[list[Rect], int, int]:
    """Where each level sits in the tiled image, and that image's (rows, cols).

    Follows dlib's ``impl::compute_tiled_image_pyramid_details``.
    """
    if nr * nc == 0:
        return [], 0, 0
    rects: list[Rect] = [(0, 0, c - 1, r - 1) for r, c in level_sizes(nr, nc, n)]
    total_height = sum(_height(r) + padding for r in rects) - 2 * padding
    first_w, first_h = _width(rects[0]), _height(rects[0])
    height = 0
    prev_width = 0
    for r in rects:
        # go down the first column until the next level fits beside the previous one (dlib does
        # this test in unsigned 64-bit arithmetic, wrap-around included)
        if (_u(_width(r)) <= _u(first_w - prev_width - padding)
                and _u(_u(height - first_h) * 2) >= _u(total_height - first_h)):
            break
        height += _height(r) + padding
        prev_width = _width(r)
    height -= padding
    width = first_w
    out_nr, out_nc = height + 2 * outer_padding, width + 2 * outer_padding

    y = outer_padding
    i = 0
    while y < height + outer_padding and i < len(rects):
        r = rects[i]
        rects[i] = (r[0] + outer_padding, r[1] + y, r[2] + outer_padding, r[3] + y)
        y += _height(r) + padding
        i += 1
    y -= padding
    while i < len(rects):
        r = rects[i]
        x1, y1 = outer_padding + width - 1, y - 1
        x2, y2 = x1 - r[2], y1 - r[3]  # p2 = p1 - br_corner
        rect = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        if _intersects(rects[0], rect):  # never overlap the original image
            break
        rects[i] = rect
        y -= _height(rect) + padding
        i += 1
    placed = rects[:i]
    return placed, out_nr, out_nc


def layout_is_valid(rects: list[Rect], out_nr: int, out_nc: int) -> bool:
    """False where dlib's layout breaks down (images a few pixels across): dlib fails on those."""
    return bool(rects) and all(0 <= l <= r < out_nc and 0 <= t <= b < out_nr for l, t, r, b in rects)


def tiled_pyramid(image: np.ndarray, means: tuple[float, float, float], n: int,
                  padding: int, outer_padding: int) -> tuple[np.ndarray, list[Rect]] | None:
    """The network input for one RGB uint8 image: float32 (rows, cols, 3) and the level rects.

    Pixels are normalised as dlib does, ``(pixel - mean) / 256``, and everything outside the levels
    is 0. None for images too small to lay out (dlib raises an error on them).
    """
    nr, nc = image.shape[:2]
    rects, out_nr, out_nc = tiled_layout(nr, nc, n, padding, outer_padding)
    if not layout_is_valid(rects, out_nr, out_nc):
        return None
    data = np.zeros((out_nr, out_nc, 3), np.float32)
    l, t, r, b = rects[0]
    level = data[t:b + 1, l:r + 1]
    np.subtract(image, np.asarray(means, np.float32), out=level, dtype=np.float32)
    level /= np.float32(256)
    for i, (prev, cur) in enumerate(zip(rects, rects[1:]), start=1):
        if any(_intersects(cur, other) for other in rects[:i]):
            resize_float_inplace(data, prev, cur)
            continue
        src = data[prev[1]:prev[3] + 1, prev[0]:prev[2] + 1]
        data[cur[1]:cur[3] + 1, cur[0]:cur[2] + 1] = resize_float(src, _height(cur), _width(cur))
    return data, rects


def pyramid_up(image: np.ndarray) -> np.ndarray:
    """dlib's ``pyramid_up(img, pyramid_down<2>)``: an image about twice as large, bilinear.

    The new size comes from ``rect_up`` of the image rectangle: (2*rows) x (2*cols + 2) for rows >= 1.
    """
    nr, nc = image.shape[:2]
    if nr * nc == 0:
        return np.zeros((0, 0, 3), np.uint8)
    # point_up(p) = (p + (1.25, 0.75)) * 2 of the bottom-right corner, rounded like dlib's rectangle
    right = math.floor((nc - 1 + 1.25) * 2 + 0.5)
    bottom = math.floor((nr - 1 + 0.75) * 2 + 0.5)
    left = math.floor(1.25 * 2 + 0.5)
    top = math.floor(0.75 * 2 + 0.5)
    if left > right or top > bottom:
        return np.zeros((0, 0, 3), np.uint8)
    return resize_rgb(image, bottom + 1, right + 1)
