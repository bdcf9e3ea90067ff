"""The pixel work of dlib's face chips: ``pyramid_down<2>`` and bilinear sampling, in numpy, exactly.

Both work on interleaved images (``(H, W, C)`` uint8, any C). The pyramid filters each band of
output rows while it is in the CPU cache (vertical taps first, then horizontal taps along the
whole row, then every other pixel kept per channel), in integers like dlib. The sampler follows
``transform_image`` with ``interpolate_bilinear``: each chip pixel is mapped into the source in
double, its four neighbours are weighted in double and the result is truncated to uint8; the
large temporaries live in per-thread buffers that are reused from chip to chip, since fresh
arrays of that size cost page faults.
"""
from __future__ import annotations

import math
import threading

import numpy as np

_U16 = np.uint16
_BAND_BYTES = 1 << 18  # vertical sums of one band of rows: about the size of an L2 cache share


def _vertical(rows: np.ndarray, n: int, out: np.ndarray, tmp: np.ndarray) -> None:
    """``out[i] = r[2i] + 4 r[2i+1] + 6 r[2i+2] + 4 r[2i+3] + r[2i+4]`` for ``i < n`` (uint16)."""
    np.add(rows[0:2 * n:2], rows[4:2 * n + 4:2], out=out, dtype=_U16)
    np.add(rows[1:2 * n + 1:2], rows[3:2 * n + 3:2], out=tmp, dtype=_U16)
    tmp <<= 2
    out += tmp
    np.multiply(rows[2:2 * n + 2:2], 6, out=tmp, dtype=_U16)
    out += tmp


def pyramid_down2(image: np.ndarray) -> np.ndarray:
    """dlib's ``pyramid_down<2>`` on a uint8 (H, W, C) image: [1 4 6 4 1] filter, keep every other pixel.

    dlib filters rows then columns in integers and divides the 5x5 sums by 256 (truncating); the
    sums are exact, so any order of the additions gives the same pixels.
    """
    h, w, chans = image.shape
    if h <= 8 or w <= 8:
        return np.zeros((0, 0, chans), dtype=np.uint8)
    oh, ow = (h - 3) // 2, (w - 3) // 2
    out = np.empty((oh, ow, chans), dtype=np.uint8)
    if image.strides[1:] != (chans, 1):
        image = np.ascontiguousarray(image)
    row, span = w * chans, (w - 4) * chans  # a row, and the filtered part of it, in values
    band = max(1, _BAND_BYTES // (2 * row))
    flat = np.lib.stride_tricks.as_strided(image, (h, row), (image.strides[0], 1))  # rows of a crop, no copy
    vert, vtmp = (np.empty((band, row), dtype=_U16) for _ in range(2))
    horz, htmp = (np.empty((band, span), dtype=_U16) for _ in range(2))
    for top in range(0, oh, band):
        n = min(band, oh - top)
        v, s, t = vert[:n], horz[:n], htmp[:n]
        _vertical(flat[2 * top:2 * top + 2 * n + 3], n, v, vtmp[:n])
        # horizontal taps at every pixel of the row (contiguous), then every other pixel kept
        np.add(v[:, 0:span], v[:, 4 * chans:4 * chans + span], out=s)
        np.add(v[:, chans:chans + span], v[:, 3 * chans:3 * chans + span], out=t)
        t <<= 2
        s += t
        np.multiply(v[:, 2 * chans:2 * chans + span], 6, out=t)
        s += t
        pixels = s.reshape(n, w - 4, chans)[:, 0:2 * ow:2]
        for c in range(chans):  # one channel at a time keeps numpy's inner loop long
            np.right_shift(pixels[:, :, c], 8, out=out[top:top + n, :, c], casting="unsafe")
    return out


class _Buffers(threading.local):
    """Scratch arrays of one thread, kept from chip to chip (a flat buffer per name, grown as needed)."""

    def __init__(self):
        self.flat: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        flat = self.flat.get((name, dtype.str))
        if flat is None or flat.size < n:
            flat = self.flat[(name, dtype.str)] = np.empty(n, dtype=dtype)
        return flat[:n].reshape(shape)


_BUFFERS = _Buffers()


def sample_bilinear(image: np.ndarray, top: int, left: int, rows_in: int, cols_in: int, tform,
                    rows: int, cols: int) -> np.ndarray:
    """dlib's ``transform_image`` with ``interpolate_bilinear`` and a black background.

    The source is the window ``image[top:top+rows_in, left:left+cols_in]`` (an (H, W, C) uint8
    image); ``tform`` maps chip ``(col, row)`` to window ``(x, y)``. Returns (rows, cols, C) uint8.
    """
    (m00, m01, m10, m11), (b0, b1) = tform
    chans = image.shape[2]
    out = np.zeros((rows, cols, chans), dtype=np.uint8)
    if rows_in < 2 or cols_in < 2:
        return out  # no pixel has the right and lower neighbours dlib interpolates with
    # the sample positions are monotone in the chip's row and column, so the corners bound them all
    corner_x = [(m00 * c + m01 * r) + b0 for c in (0.0, cols - 1.0) for r in (0.0, rows - 1.0)]
    corner_y = [(m10 * c + m11 * r) + b1 for c in (0.0, cols - 1.0) for r in (0.0, rows - 1.0)]
    all_inside = False
    if all(map(math.isfinite, corner_x + corner_y)):
        lo_x, hi_x = math.floor(min(corner_x)), math.floor(max(corner_x))
        lo_y, hi_y = math.floor(min(corner_y)), math.floor(max(corner_y))
        if hi_x < 0 or hi_y < 0 or lo_x >= cols_in - 1 or lo_y >= rows_in - 1:
            return out  # every sample outside: dlib leaves the background
        all_inside = lo_x >= 0 and lo_y >= 0 and hi_x < cols_in - 1 and hi_y < rows_in - 1
    buf = _BUFFERS.get
    window = image[top:top + rows_in, left:left + cols_in]
    if chans == 1:
        pixels = window.reshape(-1) if window.flags.c_contiguous else window.flatten()
    else:  # each pixel as one 32-bit word (channels in its bytes), so one gather reads a whole pixel
        padded = buf("rgbx", (rows_in, cols_in, 4), np.uint8)
        for c in range(chans):
            padded[:, :, c] = window[:, :, c]
        pixels = padded.view(np.uint32).reshape(-1)
    size = rows * cols
    x = buf("x", (rows, cols), np.float64)
    y = buf("y", (rows, cols), np.float64)
    fx = buf("fx", (rows, cols), np.float64)
    fy = buf("fy", (rows, cols), np.float64)
    c = np.arange(cols, dtype=np.float64)
    r = np.arange(rows, dtype=np.float64)[:, None]
    np.add(m00 * c, m01 * r, out=x)
    x += b0
    np.add(m10 * c, m11 * r, out=y)
    y += b1
    np.floor(x, out=fx)
    np.floor(y, out=fy)
    x -= fx  # lr_frac
    y -= fy  # tb_frac
    if all_inside:
        ok = None
    else:
        ok = fx >= 0
        ok &= fy >= 0
        ok &= fx < cols_in - 1
        ok &= fy < rows_in - 1
        np.clip(fx, 0, cols_in - 2, out=fx)
        np.clip(fy, 0, rows_in - 2, out=fy)
    # the four neighbours of every sample (index of the top-left one is exact in double)
    fy *= cols_in
    fy += fx
    index = buf("index", (size,), np.intp)
    np.copyto(index, fy.reshape(size), casting="unsafe")
    corners = buf("corners", (4, size), pixels.dtype)
    pixels.take(index, out=corners[0], mode="clip")
    index += 1
    pixels.take(index, out=corners[1], mode="clip")
    index += cols_in
    pixels.take(index, out=corners[3], mode="clip")
    index -= 1
    pixels.take(index, out=corners[2], mode="clip")
    tl, tr, bl, br = corners.view(np.uint8).reshape(4, size, -1)[:, :, :chans].transpose(0, 2, 1)
    # (1-tb)*((1-lr)*tl + lr*tr) + tb*((1-lr)*bl + lr*br), in double, as dlib
    lr, tb = x.reshape(size), y.reshape(size)
    not_lr = np.subtract(1, lr, out=fx.reshape(size))
    value = buf("value", (chans, size), np.float64)
    lower = buf("lower", (chans, size), np.float64)
    tmp = buf("tmp", (chans, size), np.float64)
    np.multiply(not_lr, tl, out=value)
    value += np.multiply(lr, tr, out=tmp)
    np.multiply(not_lr, bl, out=lower)
    lower += np.multiply(lr, br, out=tmp)
    value *= np.subtract(1, tb, out=fy.reshape(size))
    lower *= tb
    total = buf("total", (size, chans), np.float64)
    np.add(value, lower, out=total.T)
    if ok is not None:
        np.copyto(total, 0.0, where=~ok.reshape(size, 1))
    np.copyto(out.reshape(size, chans), total, casting="unsafe")  # truncation, as static_cast
    return out
