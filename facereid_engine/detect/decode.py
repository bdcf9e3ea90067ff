"""From the network's score map to dlib's detections: window boxes, tile lookup, NMS, rounding.

Follows ``loss_mmod_::to_label`` (dlib/dnn/loss.h): every cell scoring above the threshold becomes
the detector window centred on the input point under that cell, mapped from the tiled pyramid back
to the image, rounded to an integer rectangle; then greedy non-maximum suppression by score.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .pyramid import Rect


def dlib_round(v: float) -> int:
    """dlib's drectangle -> rectangle conversion: to nearest, halves away from zero (std::round).

    (Older dlib sources show floor(v + 0.5); dlib 20 turns -4.5 into -5.)
    """
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def cell_to_input(convs: Sequence[tuple[int, int, int]]) -> tuple[int, int]:
    """(scale, offset) so that output cell c maps to input coordinate scale * c + offset.

    ``convs`` lists (kernel, stride, padding) from the input side; dlib's con_ maps a point back
    through each layer as p * stride - padding + kernel // 2.
    """
    scale, offset = 1, 0
    for kernel, stride, padding in reversed(convs):
        scale, offset = scale * stride, offset * stride - padding + kernel // 2
    return scale, offset


def nearest_rect(rects: Sequence[Rect], x: float, y: float) -> int:
    """dlib's ``nearest_rect``: the first rect containing the point, else the nearest one."""
    best, best_dist = 0, math.inf
    for i, (l, t, r, b) in enumerate(rects):
        if l <= x <= r and t <= y <= b:
            return i
        nx = min(max(x, l), r)
        ny = min(max(y, t), b)
        dist = math.hypot(nx - x, ny - y)
        if dist < best_dist:
            best, best_dist = i, dist
    return best


def tiled_to_image(rects: Sequence[Rect], box: tuple[float, float, float, float], rate: int) -> Rect:
    """A window in tiled-pyramid coordinates, back in original image pixels, rounded (``tiled_pyramid_to_image``)."""
    l, t, r, b = box
    cx, cy = (l + r) / 2.0, (t + b) / 2.0
    level = nearest_rect(rects, dlib_round(cx), dlib_round(cy))
    ox, oy = rects[level][0], rects[level][1]
    ratio = rate / (rate - 1.0)
    coords = [l - ox, t - oy, r - ox, b - oy]
    for _ in range(level):
        coords = [v * ratio + 0.3 for v in coords]
    return tuple(dlib_round(v) for v in coords)  # type: ignore[return-value]


def _area(l: int, t: int, r: int, b: int) -> int:
    if l > r or t > b:
        return 0
    return (r - l + 1) * (b - t + 1)


def boxes_overlap(a: Rect, b: Rect, iou: float, percent_covered: float) -> bool:
    """dlib's ``test_box_overlap``: intersection over the bounding box of both, or over either's area."""
    inner = _area(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    if inner == 0:
        return False
    outer = _area(min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    return (inner / outer > iou or inner / _area(*a) > percent_covered
            or inner / _area(*b) > percent_covered)


def non_max_suppression(boxes: Sequence[Rect], scores: Sequence[float], iou: float,
                        percent_covered: float) -> list[int]:
    """Indices kept by dlib's greedy NMS, best score first."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if not any(boxes_overlap(boxes[k], boxes[i], iou, percent_covered) for k in kept):
            kept.append(i)
    return kept


def score_map_to_boxes(scores: np.ndarray, rects: Sequence[Rect], scale: int, offset: int,
                       window: tuple[int, int], rate: int, threshold: float = 0.0
                       ) -> tuple[list[Rect], list[float]]:
    """Every cell of ``scores`` (rows, cols) above ``threshold`` as an image box and its score."""
    rows, cols = np.nonzero(scores > threshold)
    half_w, half_h = (window[0] - 1) / 2.0, (window[1] - 1) / 2.0
    boxes, values = [], []
    for r, c in zip(rows.tolist(), cols.tolist()):
        px, py = float(scale * c + offset), float(scale * r + offset)
        box = (px - half_w, py - half_h, px + half_w, py + half_h)
        boxes.append(tiled_to_image(rects, box, rate))
        values.append(float(scores[r, c]))
    return boxes, values


def rect_down2(box: Rect, levels: int) -> Rect:
    """dlib's ``pyramid_down<2>::rect_down(rect, levels)``, rounded: undoes ``levels`` upsamplings."""
    l, t, r, b = (float(v) for v in box)
    for _ in range(levels):
        l, t, r, b = l / 2.0 - 1.25, t / 2.0 - 0.75, r / 2.0 - 1.25, b / 2.0 - 0.75
    return (dlib_round(l), dlib_round(t), dlib_round(r), dlib_round(b))
