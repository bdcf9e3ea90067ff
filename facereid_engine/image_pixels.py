"""Pixels of any Pillow mode -> upright 8-bit RGB, band by band (the conversion :mod:`.images` uses).

16-bit (or 12-bit, as a TIFF declares) greyscale is scaled by its real bit depth, never clipped; 32-bit
integer images by the whole bytes their values occupy; float images from [0, 1] (or [0, 255]) or else
their own min..max; transparency is laid over white. Conversion runs in bands of rows written straight
into the upright result, so the whole image is never widened.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from PIL import Image

#: Pixels converted at once (a band of rows); bounds the conversion's extra memory.
BAND_PIXELS = 1 << 20
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


# For each EXIF orientation, the view of the upright result that has the stored image's shape:
# writing the stored rows into it fills the result upright, with no second copy of the image.
_STORED_VIEW = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, -1),
}


def _bands(im: Image.Image) -> Iterator[tuple[int, int, Image.Image]]:
    """(first row, end row, image of those rows): the whole image when small, else bands of rows."""
    width, height = im.size
    rows = max(1, BAND_PIXELS // width)
    if rows >= height:
        yield 0, height, im
        return
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        yield top, bottom, im.crop((0, top, width, bottom))


def _bit_depth(im: Image.Image, lo: int, hi: int) -> int:
    """Bits per sample of integer greyscale: what the file says (12, 16 ...), else what the mode holds.

    Mode ``I`` is a 32-bit container usually holding 16-bit data: non-negative values (``lo``..``hi``
    over the image) count as the whole bytes they occupy (8, 16, 24 or 31 bits); negative values as
    the full signed 32-bit range.
    """
    tag = getattr(im, "tag_v2", None)
    if tag is not None and 258 in tag:
        bits = tag[258]
        bits = int(bits[0] if isinstance(bits, tuple) else bits)
        if 1 <= bits <= 16:
            return bits
    if im.mode.startswith("I;16"):
        return 16
    if lo < 0:
        return 32
    used = int(hi).bit_length()
    return min(31, max(8, -(-used // 8) * 8))


def _extremes(im: Image.Image, finite_only: bool) -> tuple[float, float] | None:
    """(min, max) of the values over the whole image, band by band; None when no value counts."""
    lo = hi = None
    for _, _, band in _bands(im):
        values = np.asarray(band)
        if finite_only:
            values = values[np.isfinite(values)]
        if values.size:
            b_lo, b_hi = values.min(), values.max()
            lo = b_lo if lo is None else min(lo, b_lo)
            hi = b_hi if hi is None else max(hi, b_hi)
    return None if lo is None else (lo, hi)


def _high_depth_grey_scaler(im: Image.Image):
    """For modes I;16*, I and F: a function from a band's values to uint8, scaled linearly over the
    image's real range instead of clipped (the range is measured over the whole image first)."""
    if im.mode == "F":
        found = _extremes(im, finite_only=True)
        lo, hi = (float(found[0]), float(found[1])) if found else (0.0, 0.0)

        def scale_float(values: np.ndarray) -> np.ndarray:
            v = values.astype(np.float64)  # one band at a time: never the whole image in float64
            v[~np.isfinite(v)] = 0.0
            if lo >= 0.0 and hi <= 1.0:
                v *= 255.0  # the usual convention: intensities in [0, 1]
            elif lo >= 0.0 and hi <= 255.0:
                pass  # already on the 8-bit scale
            elif hi > lo:
                v -= lo
                v *= 255.0 / (hi - lo)
            else:
                v[:] = 0.0
            np.rint(v, out=v)
            np.clip(v, 0, 255, out=v)
            return v.astype(np.uint8)
        return scale_float

    if im.mode.startswith("I;16"):
        lo, hi = 0, 0  # the bit depth of 16-bit modes does not depend on the values
    else:
        found = _extremes(im, finite_only=False)
        lo, hi = (int(found[0]), int(found[1])) if found else (0, 0)
    bits = _bit_depth(im, lo, hi)
    signed = bits == 32 and lo < 0
    top = 2**bits - 1
    wide = np.uint32 if bits <= 16 else np.int64  # 65535 * 255 fits in 32 bits; more does not

    def scale_int(values: np.ndarray) -> np.ndarray:
        v = values.astype(wide)
        if signed:
            v += 2**31  # signed 32-bit: map the whole signed range
        v *= 255
        v += top // 2
        v //= top
        return np.minimum(v, 255).astype(np.uint8)
    return scale_int


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Lay an RGBA uint8 image over a white background -> RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.uint32)
    rgb = rgba[..., :3].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def _band_converter(im: Image.Image):
    """A function from one band (a Pillow image) of ``im`` to uint8 RGB (rows, W, 3), or (rows, W) grey.

    Transparent pixels are laid over white, not black: the colour stored under transparent pixels is
    arbitrary (often black), cut-out portraits are made to be shown on a light page, and dark hair or
    a dark beard keeps its outline against white where it would vanish against black.
    """
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;"):
        scale = _high_depth_grey_scaler(im)
        return lambda band: scale(np.asarray(band))
    if mode in _ALPHA_MODES or "transparency" in im.info:
        if mode == "La":
            return lambda band: _over_white(np.asarray(band.convert("RGBa").convert("RGBA")))
        return lambda band: _over_white(np.asarray(band.convert("RGBA")))
    if mode == "L":
        return np.asarray
    if mode == "RGB":
        return np.asarray
    return lambda band: np.asarray(band.convert("RGB"))


def to_rgb(im: Image.Image, orientation: int = 1) -> np.ndarray:
    """Any Pillow mode -> upright uint8 (H, W, 3) RGB, converted band by band into the result."""
    width, height = im.size
    shape = (width, height, 3) if orientation in (5, 6, 7, 8) else (height, width, 3)
    out = np.empty(shape, dtype=np.uint8)
    stored = _STORED_VIEW[orientation](out)  # (height, width, 3), a view of ``out``
    convert = _band_converter(im)
    for top, bottom, band in _bands(im):
        pixels = convert(band)
        stored[top:bottom] = pixels[:, :, None] if pixels.ndim == 2 else pixels
    return out
