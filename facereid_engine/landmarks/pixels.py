"""The pixels the shape predictor reads: dlib's grey value at integer positions, 0 outside the image.

dlib's ``get_pixel_intensity`` of an RGB pixel is ``(r + g + b) / 3`` in integers. Each cascade
reads just its feature pixels from the colour image (one gather per image for all its faces) and
converts them. (A grey copy of the whole photo costs about 2 ns a pixel, and saves about 90 us a
face: it pays only for photos with a face per 40,000 pixels or more, so it is not made.)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GREY_OF_SUM = (np.arange(3 * 255 + 1) // 3).astype(np.int16)  # (r + g + b) / 3


class FeaturePixels:
    """Grey values for faces in one or several images; ``which[i]`` is the image of face ``i``.

    Faces of one image must be side by side in ``which``.
    """

    def __init__(self, images: Sequence[np.ndarray], which: np.ndarray):
        face_shapes = np.array([im.shape[:2] for im in images], dtype=np.intp)[which]
        self.size = face_shapes[:, ::-1, None].astype(np.uintp)  # (N, 2, 1): width, height
        self.width = face_shapes[:, 1:]  # (N, 1)
        self.groups = []
        bounds = np.flatnonzero(np.diff(which)) + 1
        for a, b in zip([0, *bounds], [*bounds, len(which)]):
            image = images[which[a]]
            flat = None
            if image.flags.c_contiguous:  # else index it in 2-D: reshaping would copy it whole
                flat = image.reshape(-1, 3) if image.ndim == 3 else image.reshape(-1)
            self.groups.append((image, flat, int(a), int(b)))

    def grey(self, ixy: np.ndarray, at: np.ndarray, total: np.ndarray) -> np.ndarray:
        """``ixy`` (N, 2, P) intp x and y rows -> grey values (N, P) int16.

        ``at`` (intp) and ``total`` (uint16), both (N, P), are scratch space.
        """
        x, y = ixy[:, 0], ixy[:, 1]
        ok = ixy.view(np.uintp) < self.size  # negative positions wrap to huge values
        inside = ok[:, 0] & ok[:, 1]
        np.multiply(y, self.width, out=at)
        at += x
        for image, flat, a, b in self.groups:  # r + g + b (3 v for a grey image), image by image
            part = total if len(self.groups) == 1 else total[a:b]
            if flat is not None:
                pix = flat.take(at if part is total else at[a:b], axis=0, mode="clip")
            else:
                h, w = image.shape[:2]
                pix = image[np.clip(y[a:b], 0, h - 1), np.clip(x[a:b], 0, w - 1)]
            if pix.ndim == 3:
                np.add(pix[..., 0], pix[..., 1], out=part, dtype=np.uint16)
                part += pix[..., 2]
            else:
                np.multiply(pix, 3, out=part, dtype=np.uint16)
        total *= inside
        return GREY_OF_SUM.take(total)
