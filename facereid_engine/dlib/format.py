"""A checked reader of dlib's serialization format (see docs/dlib-models.md in the repository).

Only primitives live here: integers, floats, bools, strings, tensors. The network and shape
predictor readers build on :class:`DlibReader`.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import ModelFileError


class DlibReader:
    """Sequential reader over the bytes of one dlib model file."""

    def __init__(self, data: bytes, path: str | os.PathLike = "<bytes>"):
        self.data = memoryview(data)
        self.pos = 0
        self.path = os.fspath(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "DlibReader":
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ModelFileError(path, f"cannot read model file ({exc.strerror or exc})") from exc
        return cls(data, path)

    # -- errors -------------------------------------------------------------------------------
    def fail(self, what: str) -> ModelFileError:
        return ModelFileError(self.path, f"damaged or unexpected dlib model file: {what} at byte {self.pos}")

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"file ends early (wanted {n} more bytes)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    # -- primitives ---------------------------------------------------------------------------
    def int(self) -> int:
        control = self._take(1)[0]
        if control & 0x70:
            raise self.fail(f"bad integer control byte 0x{control:02x}")
        size = control & 0x0F
        if not 1 <= size <= 8:
            raise self.fail(f"bad integer size {size}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        byte = self._take(1)[0]
        if byte not in (ord("0"), ord("1")):
            raise self.fail(f"bad bool byte 0x{byte:02x}")
        return byte == ord("1")

    def string(self, max_len: int = 1 << 20) -> str:
        n = self.int()
        if not 0 <= n <= max_len:
            raise self.fail(f"bad string length {n}")
        raw = bytes(self._take(n))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise self.fail("string is not ASCII") from exc

    def expect_int(self, expected: int, what: str) -> int:
        value = self.int()
        if value != expected:
            raise self.fail(f"{what}: expected {expected}, read {value}")
        return value

    def expect_string(self, expected: str, what: str = "layer name") -> str:
        value = self.string()
        if value != expected:
            raise self.fail(f"{what}: expected {expected!r}, read {value!r}")
        return value

    def tensor(self) -> np.ndarray:
        """A dlib ``tensor``: version 2, sizes (n, k, rows, cols), then float32 data (NCHW)."""
        version = self.int()
        if version == 1:  # alias tensor: sizes only
            return np.zeros([self.int() for _ in range(4)], dtype=np.float32)
        if version != 2:
            raise self.fail(f"bad tensor version {version}")
        shape = [self.int() for _ in range(4)]
        if any(s < 0 for s in shape):
            raise self.fail(f"bad tensor shape {shape}")
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def float_matrix(self) -> np.ndarray:
        """A dlib ``matrix<float>``: rows and cols (negated in the new format), then the floats."""
        rows, cols = self.int(), self.int()
        if rows < 0 or cols < 0:  # new format
            rows, cols = -rows, -cols
        values = [self.float() for _ in range(rows * cols)]
        return np.asarray(values, dtype=np.float64).reshape(rows, cols)
