"""dlib's 5-point face landmarks (ensemble of regression trees), in numpy, identical to dlib.

``ShapePredictor.predict(image, box)`` returns what ``dlib.shape_predictor(image, rect)`` returns:
the five parts as integer pixel positions (dlib rounds them into ``point``), as float64 ``(x, y)``.
The arithmetic follows dlib/image_processing/shape_predictor.h: the mean-to-current similarity
transform is fitted in double with dlib's SVD and cast to float; feature pixel positions are built
in float, mapped into the image in double and rounded with ``floor(x + 0.5)``; the grey value is
``(r + g + b) // 3`` (0 outside the image); every tree of a cascade is walked at once; the leaves
are added in float32, one tree after the other.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

from . import paths
from .dlib_geometry import affine_from_pinv, find_similarity_transform, pinv
from .landmarks_file import ShapePredictorModel, load_shape_predictor_model

MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
Box = tuple[int, int, int, int]

# unnormalizing_tform(rect) maps (0,0), (1,0), (1,1) to the box's tl, tr, br corners.
_UNIT_PINV = pinv([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def _grey_at(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dlib's grey value of the pixels at integer positions, 0 outside the image (float32)."""
    h, w = image.shape[:2]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    out = np.zeros(x.shape, dtype=np.float32)
    pix = image[y[inside], x[inside]]
    if image.ndim == 3:
        pix = pix.astype(np.uint16).sum(axis=-1) // 3
    out[inside] = pix
    return out


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected a uint8 RGB (H, W, 3) or grey (H, W) image, got {image.dtype} {image.shape}")
    return image


class ShapePredictor:
    """A dlib shape predictor over numpy arrays (see :class:`ShapePredictorModel`)."""

    def __init__(self, model: ShapePredictorModel):
        self.model = model
        self._initial_points = [(float(x), float(y)) for x, y in model.initial_shape.reshape(-1, 2)]
        self._trees = np.arange(model.split_index.shape[1])

    @property
    def num_parts(self) -> int:
        return self.model.num_parts

    def predict(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Landmarks ``(parts, 2)`` float64 ``(x, y)`` in image pixels; ``box`` is dlib's inclusive (l, t, r, b)."""
        return self.predict_many(image, [box])[0]

    def predict_many(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Landmarks for several boxes of one image, ``(N, parts, 2)`` float64."""
        image = _check_image(image)
        boxes = [tuple(int(v) for v in b) for b in boxes]
        if not boxes:
            return np.zeros((0, self.num_parts, 2), dtype=np.float64)
        m = self.model
        n = len(boxes)
        # unnormalizing_tform per box: 2x2 matrix and offset, as float64 columns (n, 1)
        to_img = [affine_from_pinv(_UNIT_PINV, [(l, t), (r, t), (r, b)]) for l, t, r, b in boxes]
        a = np.array([[*mm, *bb] for mm, bb in to_img], dtype=np.float64).T[:, :, None]
        shapes = np.tile(m.initial_shape, (n, 1))
        rows = np.arange(n)[:, None]
        n_splits = m.split_index.shape[2]
        for c in range(m.split_index.shape[0]):
            tf = np.empty((4, n, 1), dtype=np.float32)
            for i in range(n):
                current = [(float(x), float(y)) for x, y in shapes[i].reshape(-1, 2)]
                tf[:, i, 0] = find_similarity_transform(self._initial_points, current)[0]
            dx, dy = m.deltas[c, :, 0], m.deltas[c, :, 1]
            anchor = m.anchor[c]
            px = (tf[0] * dx + tf[1] * dy) + shapes[:, 2 * anchor]  # float32, as dlib
            py = (tf[2] * dx + tf[3] * dy) + shapes[:, 2 * anchor + 1]
            px, py = px.astype(np.float64), py.astype(np.float64)
            ix = np.floor(((a[0] * px + a[1] * py) + a[4]) + 0.5).astype(np.int64)
            iy = np.floor(((a[2] * px + a[3] * py) + a[5]) + 0.5).astype(np.int64)
            grey = _grey_at(image, ix, iy)
            node = np.zeros((n, len(self._trees)), dtype=np.int64)
            for _ in range(int(np.log2(n_splits + 1))):
                idx = m.split_index[c, self._trees, node]
                go_left = grey[rows, idx[..., 0]] - grey[rows, idx[..., 1]] > m.split_thresh[c, self._trees, node]
                node = np.where(go_left, 2 * node + 1, 2 * node + 2)
            leaves = m.leaves[c, self._trees, node - n_splits]
            both = np.concatenate([shapes[:, None, :], leaves], axis=1)
            shapes = np.add.accumulate(both, axis=1, dtype=np.float32)[:, -1]
        sx, sy = shapes[:, 0::2].astype(np.float64), shapes[:, 1::2].astype(np.float64)
        x = np.floor(((a[0] * sx + a[1] * sy) + a[4]) + 0.5)
        y = np.floor(((a[2] * sx + a[3] * sy) + a[5]) + 0.5)
        return np.stack([x, y], axis=-1)


@functools.lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> ShapePredictor:
    return ShapePredictor(load_shape_predictor_model(path))


def load_shape_predictor(path: str | os.PathLike | None = None) -> ShapePredictor:
    """dlib's 5-point shape predictor (cached in memory, and parsed once into the cache directory)."""
    path = os.fspath(path) if path is not None else os.fspath(paths.dlib_model_path(MODEL_FILE))
    try:
        st = os.stat(path)
    except OSError:
        return ShapePredictor(load_shape_predictor_model(path))  # raises ModelFileError
    return _load(path, st.st_size, st.st_mtime_ns)
