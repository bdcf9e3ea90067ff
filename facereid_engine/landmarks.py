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
    pix = image[np.where(inside, y, 0), np.where(inside, x, 0)]
    grey = pix if pix.ndim == x.ndim else pix.sum(axis=-1, dtype=np.uint16) // 3
    return np.where(inside, grey, 0).astype(np.float32)


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected a uint8 RGB (H, W, 3) or grey (H, W) image, got {image.dtype} {image.shape}")
    return image


class ShapePredictor:
    """A dlib shape predictor over numpy arrays (see :class:`ShapePredictorModel`)."""

    def __init__(self, model: ShapePredictorModel):
        self.model = model
        n_casc, n_trees, n_splits, _ = model.split_index.shape
        n_leaves = model.leaves.shape[2]
        self._initial_points = [(float(x), float(y)) for x, y in model.initial_shape.reshape(-1, 2)]
        self._depth = int(np.log2(n_leaves))
        # flat per-cascade tables: entry (tree, node) sits at tree * n_splits + node
        self._idx1 = model.split_index[..., 0].reshape(n_casc, -1).astype(np.intp)
        self._idx2 = model.split_index[..., 1].reshape(n_casc, -1).astype(np.intp)
        self._thresh = model.split_thresh.reshape(n_casc, -1)
        self._leaves = model.leaves.reshape(n_casc, n_trees * n_leaves, -1)
        self._split_base = np.arange(n_trees) * n_splits
        self._leaf_base = np.arange(n_trees) * n_leaves - n_splits  # leaf index = node - n_splits
        self._ax = 2 * model.anchor.astype(np.intp)

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
        # unnormalizing_tform per box, as float64 columns (n, 1): m00, m01, m10, m11, b0, b1
        to_img = [affine_from_pinv(_UNIT_PINV, [(l, t), (r, t), (r, b)]) for l, t, r, b in boxes]
        a = np.array([[*mm, *bb] for mm, bb in to_img], dtype=np.float64).T[:, :, None]
        shapes = np.tile(self.model.initial_shape, (len(boxes), 1))
        for c in range(len(self._idx1)):
            shapes = self._cascade(c, image, shapes, a)
        sx, sy = shapes[:, 0::2].astype(np.float64), shapes[:, 1::2].astype(np.float64)
        x = np.floor(((a[0] * sx + a[1] * sy) + a[4]) + 0.5)
        y = np.floor(((a[2] * sx + a[3] * sy) + a[5]) + 0.5)
        return np.stack([x, y], axis=-1)

    def _cascade(self, c: int, image: np.ndarray, shapes: np.ndarray, a: np.ndarray) -> np.ndarray:
        """One cascade for every face: read the feature pixels, walk all trees, add their leaves."""
        n = len(shapes)
        tf = np.empty((4, n, 1), dtype=np.float32)  # mean-to-current shape transform, cast to float
        for i in range(n):
            current = [(float(x), float(y)) for x, y in shapes[i].reshape(-1, 2)]
            tf[:, i, 0] = find_similarity_transform(self._initial_points, current)[0]
        dx, dy = self.model.deltas[c, :, 0], self.model.deltas[c, :, 1]
        ax = self._ax[c]
        px = ((tf[0] * dx + tf[1] * dy) + shapes[:, ax]).astype(np.float64)  # float32 sums, as dlib
        py = ((tf[2] * dx + tf[3] * dy) + shapes[:, ax + 1]).astype(np.float64)
        ix = np.floor(((a[0] * px + a[1] * py) + a[4]) + 0.5).astype(np.intp)
        iy = np.floor(((a[2] * px + a[3] * py) + a[5]) + 0.5).astype(np.intp)
        grey = _grey_at(image, ix, iy)
        flat_grey = grey.ravel()
        row = (np.arange(n) * grey.shape[1])[:, None]
        idx1, idx2, thresh = self._idx1[c], self._idx2[c], self._thresh[c]
        node = np.zeros((n, len(self._split_base)), dtype=np.intp)
        for _ in range(self._depth):
            at = self._split_base + node
            left = flat_grey[row + idx1[at]] - flat_grey[row + idx2[at]] > thresh[at]
            node = 2 * node + 2 - left
        leaves = self._leaves[c][self._leaf_base + node]
        both = np.concatenate([shapes[:, None, :], leaves], axis=1)
        return np.add.accumulate(both, axis=1, dtype=np.float32)[:, -1]


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
