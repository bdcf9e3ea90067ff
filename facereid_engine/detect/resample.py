"""dlib's bilinear ``resize_image`` reproduced bit for bit in numpy.

dlib resizes with two code paths per output row: a 4-wide SSE block in float32 (coordinates
accumulated in float32, truncation to int), then a scalar tail in double for the last columns.
Which columns fall in which path, and every rounding step, decide the exact output; both are
reproduced here. Two pixel kinds matter for the detector: float planes (the tiled pyramid of the
input tensor) and 8-bit RGB images (upsampling with ``pyramid_up``).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

F32 = np.float32


def _scales(in_n: int, out_n: int) -> float:
    return (in_n - 1) / float(max(out_n - 1, 1))


@lru_cache(maxsize=256)
def _rows(in_nr: int, out_nr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output row: top and bottom source rows and the double fraction (y accumulated in double)."""
    y_scale = _scales(in_nr, out_nr)
    top = np.empty(out_nr, np.int64)
    frac = np.empty(out_nr, np.float64)
    y = -y_scale
    for r in range(out_nr):
        y += y_scale
        t = int(np.floor(y))
        top[r] = t
        frac[r] = y - t
    bottom = np.minimum(top + 1, in_nr - 1)
    return _frozen(top), _frozen(bottom), _frozen(frac)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # cached and shared between calls
    return a


@lru_cache(maxsize=256)
def _columns(in_nc: int, out_nc: int) -> "_Columns":
    cols = _Columns(in_nc, out_nc)
    for name in ("s_left", "s_lr", "s_ilr", "t_left", "t_right", "t_lr"):
        _frozen(getattr(cols, name))
    return cols


class _Columns:
    """Per output column: which path computes it, its source columns and fractions."""

    def __init__(self, in_nc: int, out_nc: int):
        x_scale = _scales(in_nc, out_nc)
        x0 = -4 * x_scale
        lanes = np.array([x0, x0 + x_scale, x0 + 2 * x_scale, x0 + 3 * x_scale], np.float64).astype(F32)
        steps = out_nc // 4 + 2
        inc = np.full((steps, 4), F32(4 * x_scale), F32)
        inc[0] += lanes  # float32 additions, one per block, exactly as the SSE loop does them
        xs = np.cumsum(inc, axis=0, dtype=F32)
        left = xs.astype(np.int32)  # truncation (cvttps)
        right = left + 1
        # the block loop stops at the first block whose last lane reads past the row
        stop = np.nonzero(right[:, 3] >= in_nc)[0]
        n_blocks = int(stop[0]) if stop.size else steps
        # (dlib does not check out_nc in that loop; the right[3] test ends it first in practice)
        n_blocks = min(n_blocks, (out_nc + 3) // 4)
        self.c_simd = min(4 * n_blocks, out_nc)
        xs = xs[:n_blocks].reshape(-1)[: self.c_simd]
        left = left[:n_blocks].reshape(-1)[: self.c_simd]
        self.s_left = left.astype(np.int64)
        self.s_lr = (xs - left.astype(F32)).astype(F32)
        self.s_ilr = (F32(1) - self.s_lr).astype(F32)
        # scalar tail, in double
        n_tail = out_nc - self.c_simd
        x = -x_scale + self.c_simd * x_scale
        t_left = np.empty(n_tail, np.int64)
        t_lr = np.empty(n_tail, np.float64)
        for i in range(n_tail):
            x += x_scale
            lft = int(np.floor(x))
            t_left[i] = lft
            t_lr[i] = x - lft
        self.t_left = t_left
        self.t_right = np.minimum(t_left + 1, in_nc - 1)
        self.t_lr = t_lr


def _blend_block(src: np.ndarray, top, bottom, tb: np.ndarray, cols: "_Columns") -> np.ndarray:
    """The SSE block columns of every row, float32 in dlib's order; src is (H, W, C) float32."""
    tbf = tb.astype(F32)[:, None, None]
    itbf = (1.0 - tb).astype(F32)[:, None, None]
    lr = cols.s_lr[None, :, None]
    ilr = cols.s_ilr[None, :, None]
    upper = np.take(src, top, axis=0)
    lower = np.take(src, bottom, axis=0)
    left = cols.s_left
    out = np.take(upper, left, axis=1)
    out *= itbf * ilr
    t = np.take(upper, left + 1, axis=1)
    t *= itbf * lr
    out += t
    t = np.take(lower, left, axis=1)
    t *= tbf * ilr
    out += t
    t = np.take(lower, left + 1, axis=1)
    t *= tbf * lr
    out += t
    return out


def resize_float(src: np.ndarray, out_nr: int, out_nc: int) -> np.ndarray:
    """Resize float32 image ``src`` (H, W, C) as dlib's ``resize_image`` does each float plane."""
    in_nr, in_nc, c = src.shape
    out = np.empty((out_nr, out_nc, c), F32)
    if out_nr == 0 or out_nc == 0 or in_nr == 0 or in_nc == 0:
        return out
    top, bottom, tb = _rows(in_nr, out_nr)
    cols = _columns(in_nc, out_nc)
    if cols.c_simd:
        out[:, : cols.c_simd] = _blend_block(src, top, bottom, tb, cols)
    if cols.c_simd < out_nc:
        lr = cols.t_lr.astype(F32)[None, :, None]  # a float in dlib's float-image tail
        ilr = (F32(1) - lr).astype(F32)
        tbd = tb[:, None, None]
        upper = np.take(src, top, axis=0)
        lower = np.take(src, bottom, axis=0)
        tl, tr = upper[:, cols.t_left], upper[:, cols.t_right]
        bl, br = lower[:, cols.t_left], lower[:, cols.t_right]
        up = (ilr * tl + lr * tr).astype(np.float64)
        down = (ilr * bl + lr * br).astype(np.float64)
        out[:, cols.c_simd:] = ((1 - tbd) * up + tbd * down).astype(F32)
    return out


def resize_rgb(src: np.ndarray, out_nr: int, out_nc: int) -> np.ndarray:
    """Resize an 8-bit RGB image (H, W, 3) as dlib's ``resize_image`` does an ``rgb_pixel`` image."""
    in_nr, in_nc = src.shape[:2]
    out = np.zeros((out_nr, out_nc, 3), np.uint8)
    if out_nr == 0 or out_nc == 0 or in_nr == 0 or in_nc == 0:
        return out
    top, bottom, tb = _rows(in_nr, out_nr)
    cols = _columns(in_nc, out_nc)
    img = src.astype(F32)
    if cols.c_simd:
        out[:, : cols.c_simd] = _blend_block(img, top, bottom, tb, cols).astype(np.int32).astype(np.uint8)
    if cols.c_simd < out_nc:
        lr = cols.t_lr[None, :, None]  # a double in dlib's RGB tail
        tbd = tb[:, None, None]
        upper = np.take(img, top, axis=0).astype(np.float64)
        lower = np.take(img, bottom, axis=0).astype(np.float64)
        tl, tr = upper[:, cols.t_left], upper[:, cols.t_right]
        bl, br = lower[:, cols.t_left], lower[:, cols.t_right]
        v = (1 - tbd) * ((1 - lr) * tl + lr * tr) + tbd * ((1 - lr) * bl + lr * br)
        out[:, cols.c_simd:] = _to_u8(v)
    return out


def _to_u8(v: np.ndarray) -> np.ndarray:
    return np.clip(v, 0, 255).astype(np.uint8)


def resize_float_inplace(data: np.ndarray, src: tuple[int, int, int, int],
                         dst: tuple[int, int, int, int]) -> None:
    """Resize the ``src`` region of ``data`` (H, W, C) into its ``dst`` region when the two overlap.

    dlib then reads pixels it has already written; this walks rows and 4-column blocks in dlib's
    order so the result is the same. Only tiny images produce such overlapping pyramid levels.
    """
    sl, st, sr, sb = src
    dl, dt, dr, db = dst
    in_nr, in_nc = sb - st + 1, sr - sl + 1
    out_nr, out_nc = db - dt + 1, dr - dl + 1
    if min(in_nr, in_nc, out_nr, out_nc) <= 0:
        return
    top, bottom, tb = _rows(in_nr, out_nr)
    cols = _columns(in_nc, out_nc)
    for k in range(data.shape[2]):
        plane = data[:, :, k]
        for r in range(out_nr):
            t_row, b_row = st + top[r], st + bottom[r]
            tbf, itbf = F32(tb[r]), F32(1.0 - tb[r])
            for c0 in range(0, cols.c_simd, 4):
                sel = slice(c0, min(c0 + 4, cols.c_simd))
                left = sl + cols.s_left[sel]
                lr, ilr = cols.s_lr[sel], cols.s_ilr[sel]
                tl, tr = plane[t_row, left].copy(), plane[t_row, left + 1].copy()
                bl, br = plane[b_row, left].copy(), plane[b_row, left + 1].copy()
                v = (((itbf * ilr) * tl + (itbf * lr) * tr) + (tbf * ilr) * bl) + (tbf * lr) * br
                plane[dt + r, dl + c0: dl + c0 + len(v)] = v
            for j in range(out_nc - cols.c_simd):
                lft, rgt = sl + cols.t_left[j], sl + cols.t_right[j]
                lr = F32(cols.t_lr[j])
                ilr = F32(1) - lr
                upper = float(ilr * plane[t_row, lft] + lr * plane[t_row, rgt])
                lower = float(ilr * plane[b_row, lft] + lr * plane[b_row, rgt])
                plane[dt + r, dl + cols.c_simd + j] = F32((1 - tb[r]) * upper + tb[r] * lower)
