"""Reading dlib's shape predictor file (``shape_predictor_5_face_landmarks.dat``) into numpy arrays.

Layout (dlib/image_processing/shape_predictor.h, ``serialize(shape_predictor)``): integer version 1;
the initial shape (``matrix<float,0,1>``); the forests (per cascade a list of regression trees, each
its splits ``(idx1, idx2, float thresh)`` then its leaves, each a ``matrix<float,0,1>``); per cascade
the anchor index of every feature pixel; per cascade every pixel's ``(dx, dy)`` float offset.
Apart from the header everything is an encoded integer (a float is a mantissa and an exponent), so
the body is tokenised in one pass with a regular expression and decoded with numpy. The parsed
arrays are cached as ``.npz`` in the cache directory, keyed by the file's size and mtime.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np

from .. import paths
from ..dlib.format import DlibReader
from ..errors import ModelFileError

CACHE_FORMAT = 1
# One encoded integer: a control byte (size 1..8, bit 0x80 = negative) and its magnitude bytes.
_TOKEN = re.compile(b"(?s)" + b"|".join(
    b"[\\x%02x\\x%02x]" % (n, 0x80 | n) + b".{%d}" % n for n in range(1, 9)))


@dataclass(frozen=True)
class ShapePredictorModel:
    """A dlib shape predictor as arrays (C cascades, T trees, S splits, L leaves, P pixels, K = 2 x parts)."""

    initial_shape: np.ndarray  # (K,) float32, normalised to the face box
    split_index: np.ndarray    # (C, T, S, 2) int32: feature pixels compared at each split
    split_thresh: np.ndarray   # (C, T, S) float32
    leaves: np.ndarray         # (C, T, L, K) float32
    anchor: np.ndarray         # (C, P) int32: shape point each feature pixel hangs on
    deltas: np.ndarray         # (C, P, 2) float32: pixel offset from its anchor, in mean-shape space

    @property
    def num_parts(self) -> int:
        return self.initial_shape.shape[0] // 2

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class _Ints:
    """A cursor over the decoded integers of the file body, reporting byte offsets in errors."""

    def __init__(self, values: np.ndarray, starts: np.ndarray, base: int, end: int, path: str):
        self.values, self.starts, self.base, self.end, self.path = values, starts, base, end, path
        self.i = 0

    def fail(self, what: str) -> ModelFileError:
        at = self.base + int(self.starts[self.i]) if self.i < len(self.starts) else self.end
        return ModelFileError(self.path, f"damaged or unexpected shape predictor file: {what} at byte {at}")

    def take(self, n: int) -> np.ndarray:
        if n < 0 or self.i + n > len(self.values):
            self.i = len(self.values)
            raise self.fail("file ends early (truncated?)")
        out = self.values[self.i:self.i + n]
        self.i += n
        return out

    def one(self, what: str, lo: int = 0, hi: int = 1 << 31) -> int:
        value = int(self.take(1)[0])
        if not lo <= value <= hi:
            self.i -= 1
            raise self.fail(f"{what} {value} out of range")
        return value

    def floats(self, pairs: np.ndarray) -> np.ndarray:
        """Decode (mantissa, exponent) pairs (last axis) into float32."""
        mant, expo = pairs[..., 0], pairs[..., 1]
        if np.any(np.abs(expo) > 1000):
            raise self.fail("infinite, NaN or out-of-range float")
        values = np.ldexp(mant.astype(np.float64), expo.astype(np.int32))
        out = values.astype(np.float32)
        if not np.array_equal(out.astype(np.float64), values):
            raise self.fail("a value that is not a 32-bit float")
        return out


def _decode_body(reader: DlibReader) -> _Ints:
    """Tokenise and decode every integer from the reader's position to the end of the file."""
    data = bytes(reader.data[reader.pos:])
    tokens = _TOKEN.findall(data)
    control = np.frombuffer(bytes(map(itemgetter(0), tokens)), dtype=np.uint8)
    sizes = (control & 15).astype(np.int64)
    starts = np.zeros(len(tokens), dtype=np.int64)
    np.cumsum(sizes[:-1] + 1, out=starts[1:])
    if len(tokens) == 0 or int(starts[-1] + sizes[-1] + 1) != len(data):
        while not reader.at_end:  # find and report the first bad integer
            reader.int()
        raise reader.fail("unexpected data")
    raw = np.frombuffer(data + bytes(8), dtype=np.uint8)
    values = np.zeros(len(tokens), dtype=np.int64)
    for k in range(1, int(sizes.max()) + 1):
        sel = np.nonzero(sizes >= k)[0]
        values[sel] |= raw[starts[sel] + k].astype(np.int64) << (8 * (k - 1))
    values = np.where(control & 0x80, -values, values)
    return _Ints(values, starts, reader.pos, len(reader.data), reader.path)


def _read_forest(ints: _Ints, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cascade's trees; all trees must have the same shape (as every dlib-trained model has)."""
    n_trees = ints.one("number of trees", 1, 1 << 20)
    head = ints.i
    n_splits = ints.one("number of splits", 0, 1 << 16)
    ints.take(4 * n_splits)
    n_leaves = ints.one("number of leaves", 1, 1 << 16)
    if n_leaves != n_splits + 1 or n_leaves & (n_leaves - 1):
        raise ints.fail(f"a tree with {n_splits} splits and {n_leaves} leaves")
    ints.i = head
    leaf_len = 2 + 2 * k
    rec_len = 2 + 4 * n_splits + n_leaves * leaf_len
    block = ints.take(n_trees * rec_len).reshape(n_trees, rec_len)
    splits = block[:, 1:1 + 4 * n_splits].reshape(n_trees, n_splits, 4)
    leaves = block[:, 2 + 4 * n_splits:].reshape(n_trees, n_leaves, leaf_len)
    if (np.any(block[:, 0] != n_splits) or np.any(block[:, 1 + 4 * n_splits] != n_leaves)
            or np.any(np.abs(leaves[:, :, 0]) != k) or np.any(np.abs(leaves[:, :, 1]) != 1)):
        raise ints.fail("trees of different shapes")
    thresh = ints.floats(splits[:, :, 2:4])
    values = ints.floats(leaves[:, :, 2:].reshape(n_trees, n_leaves, k, 2))
    return splits[:, :, :2].astype(np.int32), thresh, values


def parse_shape_predictor(path: str | os.PathLike) -> ShapePredictorModel:
    """Parse a dlib shape predictor ``.dat`` file; raises :class:`ModelFileError` if it is damaged."""
    reader = DlibReader.open(path)
    reader.expect_int(1, "shape predictor version")
    initial = reader.float_matrix()
    if initial.ndim != 2 or initial.shape[1] != 1 or initial.shape[0] < 2 or initial.shape[0] % 2:
        raise reader.fail(f"initial shape of size {initial.shape}")
    k = initial.shape[0]
    ints = _decode_body(reader)
    n_casc = ints.one("number of cascades", 1, 1000)
    forests = [_read_forest(ints, k) for _ in range(n_casc)]
    if len({(f[0].shape, f[2].shape) for f in forests}) != 1:
        raise ints.fail("cascades of different shapes")
    ints.one("number of anchor lists", n_casc, n_casc)
    anchors = []
    for _ in range(n_casc):
        n_pix = ints.one("number of feature pixels", 1, 1 << 20)
        anchors.append(ints.take(n_pix).astype(np.int32))
    ints.one("number of delta lists", n_casc, n_casc)
    deltas = []
    for a in anchors:
        ints.one("number of feature pixels", len(a), len(a))
        deltas.append(ints.floats(ints.take(4 * len(a)).reshape(len(a), 2, 2)))
    if ints.i != len(ints.values):
        raise ints.fail("data after the end of the model")
    if len({len(a) for a in anchors}) != 1:
        raise ints.fail("cascades with different numbers of feature pixels")
    model = ShapePredictorModel(
        initial_shape=initial[:, 0].astype(np.float32),
        split_index=np.stack([f[0] for f in forests]),
        split_thresh=np.stack([f[1] for f in forests]),
        leaves=np.stack([f[2] for f in forests]),
        anchor=np.stack(anchors),
        deltas=np.stack(deltas),
    )
    n_pix = model.anchor.shape[1]
    if (model.split_index.min() < 0 or model.split_index.max() >= n_pix
            or model.anchor.min() < 0 or model.anchor.max() >= k // 2):
        raise ModelFileError(path, "damaged shape predictor file: a feature index out of range")
    return model


def cache_path(path: Path) -> Path:
    st = path.stat()
    return paths.cache_dir() / f"{path.stem}-v{CACHE_FORMAT}-{st.st_size}-{st.st_mtime_ns}.npz"


def load_shape_predictor_model(path: str | os.PathLike) -> ShapePredictorModel:
    """The parsed model, from the ``.npz`` cache when it matches the file, else parsed and cached."""
    path = Path(path)
    try:
        cache = cache_path(path)
    except OSError as exc:
        raise ModelFileError(path, f"cannot read model file ({exc.strerror or exc})") from exc
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as npz:
                return ShapePredictorModel(**{name: npz[name] for name in ShapePredictorModel.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache is rebuilt below
    model = parse_shape_predictor(path)
    tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **model.arrays())
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)  # caching is an optimisation; a read-only cache dir is fine
    return model
