"""dlib's 5-point face landmarks (ensemble of regression trees), in numpy, identical to dlib.

``ShapePredictor.predict(image, box)`` returns what ``dlib.shape_predictor(image, rect)`` returns:
the five parts as integer pixel positions (dlib rounds them into ``point``), as float64 ``(x, y)``.
The arithmetic follows dlib/image_processing/shape_predictor.h: the mean-to-current similarity
transform is fitted in double with dlib's SVD and cast to float; feature pixel positions are built
in float, mapped into the image in double and rounded with ``floor(x + 0.5)``; the grey value is
``(r + g + b) / 3`` in integers (0 outside the image); the leaves are added in float32, one tree
after the other, after the current shape.

Speed comes from doing each step for all faces of a call at once: every face (of one image, or of
several) goes through a cascade together, and every split of every tree is answered in one go;
a tree's 15 answers, packed into 16 bits, index a table of the leaf they lead to.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

from .. import paths
from ..dlib.geometry import affine_from_pinv, pinv
from ..dlib.similarity import SimilarityFit
from .pixels import FeaturePixels
from .model_file import ShapePredictorModel, load_shape_predictor_model

MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
Box = tuple[int, int, int, int]

# unnormalizing_tform(rect) maps (0,0), (1,0), (1,1) to the box's tl, tr, br corners.
_UNIT_PINV = pinv([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected a uint8 RGB (H, W, 3) or grey (H, W) image, got {image.dtype} {image.shape}")
    return image


def _leaf_table(n_splits: int, bits: int) -> np.ndarray:
    """Leaf reached for every ``bits``-bit code whose bit ``bits-1-j`` says "left" at node ``j``."""
    code = np.arange(1 << bits)
    node = np.zeros_like(code)
    while True:
        inner = node < n_splits
        if not inner.any():
            return (node - n_splits).astype(np.intp)
        left = (code >> np.where(inner, bits - 1 - node, 0)) & 1
        node = np.where(inner, 2 * node + 2 - left, node)


@functools.lru_cache(maxsize=256)
def _einsum_is_sequential(rows: int, n: int, width: int) -> bool:
    """Whether ``einsum("tnk->nk")`` of float32 ``(rows, n, width)`` adds row after row, as dlib does.

    It does when numpy's inner loop runs along a row (a sum along the inner loop would use several
    accumulators); checked on data where any other order gives another sum.
    """
    data = np.full((rows, n, width), 2.0 ** -25, dtype=np.float32)
    data[0] = 1.0  # each later term is below half an ulp of 1: only a sequential sum stays at 1
    return bool(np.array_equal(np.einsum("tnk->nk", data), data[0]))


class _Work:
    """Per-call buffers, reused by every cascade (fresh large arrays cost page faults)."""

    def __init__(self, n: int, pixels: int, splits: int, trees: int, width: int):
        self.pos, self.pos_tmp = (np.empty((n, 2, pixels), dtype=np.float32) for _ in range(2))
        self.at, self.at_tmp = (np.empty((n, 2, pixels), dtype=np.float64) for _ in range(2))
        self.ixy = np.empty((n, 2, pixels), dtype=np.intp)
        self.flat = np.empty((n, pixels), dtype=np.intp)
        self.total = np.empty((n, pixels), dtype=np.uint16)
        self.values_t = np.empty((pixels, n), dtype=np.int16)
        self.pair_t = np.empty((2, splits, n), dtype=np.int16)
        self.diff_t = np.empty((splits, n), dtype=np.int16)
        self.diff = np.empty((n, splits), dtype=np.int16)
        self.go_left = np.empty((n, splits), dtype=bool)
        self.rows = np.empty((trees + 1, n, width), dtype=np.float32)
        self.einsum_ok = _einsum_is_sequential(trees + 1, n, width)


class ShapePredictor:
    """A dlib shape predictor over numpy arrays (see :class:`ShapePredictorModel`)."""

    def __init__(self, model: ShapePredictorModel):
        self.model = model
        n_casc, n_trees, n_splits, _ = model.split_index.shape
        n_leaves = model.leaves.shape[2]
        self._fit = SimilarityFit(model.initial_shape.reshape(-1, 2).tolist())
        self._n_splits = n_splits
        self._depth = int(np.log2(n_leaves))
        # each tree's splits padded to whole bytes; a padding split compares pixel 0 with itself
        # against a threshold no difference exceeds, so its answer is always "right"
        self._width = -(-n_splits // 8) * 8
        pad = ((0, 0), (0, 0), (0, self._width - n_splits))
        index = np.pad(model.split_index, pad + ((0, 0),))
        self._pairs = np.ascontiguousarray(index.transpose(0, 3, 1, 2).reshape(n_casc, 2, -1)).astype(np.intp)
        # grey differences are integers, so "d > t" is "d > floor(t)", in int16
        thresh = np.clip(np.floor(model.split_thresh), -1024, 1024)
        self._thresh = np.pad(thresh, pad, constant_values=1024).reshape(n_casc, -1).astype(np.int16)
        self._leaves = model.leaves.reshape(n_casc, n_trees * n_leaves, -1)
        self._tree_base = np.arange(n_trees)[:, None] * n_leaves
        self._table = _leaf_table(n_splits, self._width) if self._width <= 16 else None
        # the x and y of each feature pixel's anchor point, as indices into a flat shape
        anchor = model.anchor.astype(np.intp)
        self._anchor_xy = np.stack([2 * anchor, 2 * anchor + 1], axis=1)  # (C, 2, P)
        self._dx = np.ascontiguousarray(model.deltas[:, :, 0])
        self._dy = np.ascontiguousarray(model.deltas[:, :, 1])
        self._cascades = list(zip(self._dx, self._dy, self._anchor_xy, self._pairs, self._thresh, self._leaves))

    @property
    def num_parts(self) -> int:
        return self.model.num_parts

    def predict(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Landmarks ``(parts, 2)`` float64 ``(x, y)`` in image pixels; ``box`` is dlib's inclusive (l, t, r, b)."""
        return self.predict_many(image, [box])[0]

    def predict_many(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Landmarks for several boxes of one image, ``(N, parts, 2)`` float64."""
        return self._predict([_check_image(image)], [0] * len(boxes), boxes)

    def predict_batch(self, images: Sequence[np.ndarray], boxes: Sequence[Box]) -> np.ndarray:
        """Landmarks for ``boxes[i]`` in ``images[i]`` (the same image may repeat), ``(N, parts, 2)`` float64.

        Equal to calling :meth:`predict` for each pair, and faster per face for many faces.
        """
        if len(images) != len(boxes):
            raise ValueError(f"{len(images)} images but {len(boxes)} boxes")
        slot: dict[int, int] = {}
        distinct: list[np.ndarray] = []
        which = []
        for image in images:
            if id(image) not in slot:
                slot[id(image)] = len(distinct)
                distinct.append(_check_image(image))
            which.append(slot[id(image)])
        return self._predict(distinct, which, boxes)

    def _predict(self, images: list[np.ndarray], which: Sequence[int], boxes: Sequence[Box]) -> np.ndarray:
        boxes = [tuple(int(v) for v in b) for b in boxes]
        n = len(boxes)
        if not n:
            return np.zeros((0, self.num_parts, 2), dtype=np.float64)
        order = np.argsort(which, kind="stable")  # faces of one image side by side
        pixels = FeaturePixels(images, np.asarray(which, dtype=np.intp)[order])
        boxes = [boxes[i] for i in order]
        # unnormalizing_tform per box: (N, 2, 1) columns of m, and b
        to_img = np.array([[*m, *b] for m, b in (affine_from_pinv(_UNIT_PINV, [(l, t), (r, t), (r, b)])
                                                 for l, t, r, b in boxes)], dtype=np.float64)
        col0, col1, offset = (to_img[:, idx, None] for idx in ([0, 2], [1, 3], [4, 5]))
        shapes = np.tile(self.model.initial_shape, (n, 1))
        work = _Work(n, self._dx.shape[1], self._thresh.shape[1], len(self._tree_base), shapes.shape[1])
        for c in range(len(self._pairs)):
            shapes = self._cascade(c, pixels, shapes, (col0, col1, offset), work)
        parts = shapes.reshape(n, 1, -1, 2).astype(np.float64)
        points = col0 * parts[..., 0]
        points += col1 * parts[..., 1]
        points += offset
        points += 0.5
        out = np.empty((n, parts.shape[2], 2), dtype=np.float64)
        out[order] = np.floor(points, out=points).transpose(0, 2, 1)
        return out

    def _cascade(self, c: int, pixels: FeaturePixels, shapes: np.ndarray, to_img: tuple, work: _Work) -> np.ndarray:
        """One cascade for every face: read the feature pixels, evaluate all trees, add their leaves."""
        n = len(shapes)
        dx, dy, anchor_xy, pairs, thresh, leaves = self._cascades[c]
        col0, col1, offset = to_img
        fit = self._fit  # mean-to-current shape transform, cast to float
        tf = np.array([fit(s[0::2], s[1::2])[0] for s in shapes.tolist()], dtype=np.float32).reshape(n, 2, 2)
        # feature pixels in float32 (tform * delta + anchor), then in the image in double
        pos, tmp = work.pos, work.pos_tmp
        np.multiply(tf[:, :, 0, None], dx, out=pos)
        pos += np.multiply(tf[:, :, 1, None], dy, out=tmp)
        pos += shapes.take(anchor_xy, axis=1, out=tmp)
        at, tmp = work.at, work.at_tmp
        np.multiply(col0, pos[:, 0, None], out=at)
        at += np.multiply(col1, pos[:, 1, None], out=tmp)
        at += offset
        at += 0.5
        values = pixels.grey(np.floor(at, out=work.ixy, casting="unsafe"), work.flat, work.total)
        # every split of every tree: is value[idx1] - value[idx2] > thresh ?  (the pixel pairs are
        # read with all faces side by side: one gather copies a value of every face)
        if n == 1:
            pair = values.reshape(-1, 1).take(pairs, axis=0, out=work.pair_t, mode="clip")
            diff = np.subtract(pair[0], pair[1], out=work.diff_t).reshape(1, -1)
        else:
            np.copyto(work.values_t, values.T)
            pair = work.values_t.take(pairs, axis=0, out=work.pair_t, mode="clip")
            diff = work.diff
            np.copyto(diff, np.subtract(pair[0], pair[1], out=work.diff_t).T)
        leaf = self._leaf_index(np.greater(diff, thresh, out=work.go_left))
        # leaves added one tree after the other, in float32, after the current shape
        rows = work.rows
        rows[0] = shapes
        leaves.take(leaf.T + self._tree_base, axis=0, out=rows[1:], mode="clip")
        if work.einsum_ok:
            return np.einsum("tnk->nk", rows)
        return np.add.accumulate(rows, axis=0)[-1]

    def _leaf_index(self, go_left: np.ndarray) -> np.ndarray:
        """(N, trees) leaf reached in each tree from the (N, trees * width) split answers."""
        n, n_trees = len(go_left), len(self._tree_base)
        if self._table is not None:
            code = np.packbits(go_left).view(">u2" if self._width == 16 else np.uint8)
            return self._table.take(code).reshape(n, n_trees)
        go_left = go_left.reshape(n, n_trees, self._width)
        node = np.zeros((n, n_trees), dtype=np.intp)
        for _ in range(self._depth):
            left = np.take_along_axis(go_left, node[..., None], axis=2)[..., 0]
            node = 2 * node + 2 - left
        return node - self._n_splits


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
