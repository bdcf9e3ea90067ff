"""Image files (or bytes) -> RGB uint8 arrays, upright, with clear errors for anything unreadable.

Every Pillow mode is turned into 8-bit RGB the way a person would expect to see it: 16-bit (or 12-bit,
as a TIFF declares) greyscale is scaled by its real bit depth, never clipped; 32-bit integer images by
the whole bytes their values occupy; float images from [0, 1] (or [0, 255]) or else their own
min..max; transparency is laid over white; the EXIF orientation is applied; and only the first frame
of an animation or multi-page file is read. HEIC/HEIF is read when the optional package pillow-heif
is installed.
Decompression bombs are refused from the header, before any pixel is decoded.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import stat
import threading
import warnings
from typing import BinaryIO, Iterator, Union

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError, features

from .errors import ImageLoadError

Source = Union[str, os.PathLike, bytes, bytearray, memoryview]

#: About 179 megapixels: the most Pillow's own default bomb guard lets through (twice
#: ``Image.MAX_IMAGE_PIXELS``), more than any camera sensor; decoded RGB this size is ~540 MB.
DEFAULT_MAX_PIXELS: int = 178_956_970

_HEIF_INSTALLED = importlib.util.find_spec("pillow_heif") is not None
_heif_lock = threading.Lock()
_heif_registered = False

_BASE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif"}
if features.check("webp"):
    _BASE_EXTENSIONS.add(".webp")
if features.check("avif"):
    _BASE_EXTENSIONS.add(".avif")
if _HEIF_INSTALLED:
    _BASE_EXTENSIONS |= {".heic", ".heif"}
#: File name extensions (lower case, with the dot) that :func:`load_image` reads.
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_BASE_EXTENSIONS)

# Orientation tag value -> the Pillow transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATION_FIX = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _register_heif() -> None:
    """Let Pillow open HEIC/HEIF when the optional package pillow-heif is installed (first use only)."""
    global _heif_registered
    if not _HEIF_INSTALLED or _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            try:
                import pillow_heif
                pillow_heif.register_heif_opener()
            except Exception:  # a broken optional plugin must not stop ordinary images
                pass
            _heif_registered = True


@contextlib.contextmanager
def _opened(source: Source, name: str | None) -> Iterator[tuple[BinaryIO, str | None]]:
    """A binary file object over the source and the name for messages; refuses what is not a readable file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise ImageLoadError(name, "the image data is empty (0 bytes)")
        yield io.BytesIO(source), name
        return
    path = os.fspath(source)
    label = name if name is not None else path
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ImageLoadError(label, "is a folder, not an image file")
        if not stat.S_ISREG(info.st_mode):
            raise ImageLoadError(label, "is not a regular file (a device, pipe or socket)")
        if info.st_size == 0:
            raise ImageLoadError(label, "the file is empty (0 bytes)")
        f = open(path, "rb")
    except FileNotFoundError:
        raise ImageLoadError(label, "file not found") from None
    except PermissionError:
        raise ImageLoadError(label, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise ImageLoadError(label, f"cannot be read: {exc.strerror or exc}") from None
    with f:
        yield f, label


def _not_an_image_cause(fp: BinaryIO, label: str | None) -> str:
    fp.seek(0)
    is_heif = fp.read(12)[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheif")
    if is_heif or (label or "").lower().endswith((".heic", ".heif")):
        if not _HEIF_INSTALLED:
            return "a HEIC/HEIF photo: install the package 'pillow-heif' to read it"
    return "not an image, or not a format FaceReID can read"


def _open(fp: BinaryIO, label: str | None, max_pixels: int) -> Image.Image:
    """Open (header only) and check the pixel count before anything is decoded."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            # Our own limit below is the policy; Pillow's warning threshold is lower than it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(label, f"too large: refused without decoding, as a possible decompression bomb "
                                    f"({exc})") from None
    except UnidentifiedImageError:
        raise ImageLoadError(label, _not_an_image_cause(fp, label)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(label, f"the image header is damaged or truncated ({exc})") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise ImageLoadError(label, f"the image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        im.close()
        raise ImageLoadError(
            label,
            f"too large: {width}x{height} = {width * height:,} pixels is above the limit of "
            f"{max_pixels:,} pixels (refused without decoding, as a possible decompression bomb)",
        )
    return im


def _orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1 when absent or unreadable; reads no pixel data."""
    try:
        if im.format == "PNG" and "exif" not in im.info:
            exif = Image.Image.getexif(im)  # PNG's override decodes the image to find a late eXIf chunk
        else:
            exif = im.getexif()
        value = int(exif.get(0x0112, 1))
    except Exception:  # damaged metadata must not make a readable photo unreadable
        return 1
    return value if value in _ORIENTATION_FIX else 1


def _bit_depth(im: Image.Image, values: np.ndarray) -> int:
    """Bits per sample of integer greyscale: what the file says (12, 16 ...), else what the mode holds.

    Mode ``I`` is a 32-bit container usually holding 16-bit data: non-negative values count as the
    whole bytes they occupy (8, 16, 24 or 31 bits); negative values as the full signed 32-bit range.
    """
    tag = getattr(im, "tag_v2", None)
    if tag is not None and 258 in tag:
        bits = tag[258]
        bits = int(bits[0] if isinstance(bits, tuple) else bits)
        if 1 <= bits <= 16:
            return bits
    if im.mode.startswith("I;16"):
        return 16
    if values.size == 0:
        return 16
    if values.min() < 0:
        return 32
    used = int(values.max()).bit_length()
    return min(31, max(8, -(-used // 8) * 8))


def _high_depth_grey_to_8bit(im: Image.Image) -> np.ndarray:
    """Modes I;16*, I and F -> uint8 (H, W), scaled linearly over the real range instead of clipped."""
    values = np.asarray(im)
    if im.mode == "F":
        v = values.astype(np.float64)
        finite = np.isfinite(v)
        v[~finite] = 0.0
        lo, hi = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 0.0)
        if lo >= 0.0 and hi <= 1.0:
            scaled = v * 255.0  # the usual convention: intensities in [0, 1]
        elif lo >= 0.0 and hi <= 255.0:
            scaled = v  # already on the 8-bit scale
        elif hi > lo:
            scaled = (v - lo) * (255.0 / (hi - lo))
        else:
            scaled = np.zeros_like(v)
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    v = values.astype(np.int64)
    bits = _bit_depth(im, values)
    if bits == 32 and v.size and v.min() < 0:
        v = v + 2**31  # signed 32-bit: map the whole signed range
    top = 2**bits - 1
    return np.clip((v * 255 + top // 2) // top, 0, 255).astype(np.uint8)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Lay an RGBA uint8 image over a white background -> RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.uint32)
    rgb = rgba[..., :3].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 (H, W, 3) RGB.

    Transparent pixels are laid over white, not black: the colour stored under transparent pixels is
    arbitrary (often black), cut-out portraits are made to be shown on a light page, and dark hair or
    a dark beard keeps its outline against white where it would vanish against black.
    """
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;"):
        grey = _high_depth_grey_to_8bit(im)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in _ALPHA_MODES or "transparency" in im.info:
        if mode == "La":
            im = im.convert("RGBa")  # Pillow has no direct La -> RGBA path
        return _over_white(np.asarray(im.convert("RGBA")))
    return np.asarray(im if mode == "RGB" else im.convert("RGB"))


def load_image(source: Source, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str | None = None) -> np.ndarray:
    """Read an image file (path or its bytes) as an upright (H, W, 3) uint8 RGB C-contiguous array.

    ``name`` replaces the path in error messages (useful for bytes). Raises :class:`ImageLoadError`
    naming the file and the cause: missing, a folder, empty, unreadable, not an image, truncated or
    damaged, or more than ``max_pixels`` pixels (checked from the header, before decoding).
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    with _opened(source, name) as (fp, label):
        return _decode(fp, label, max_pixels)


def _decode(fp: BinaryIO, label: str | None, max_pixels: int) -> np.ndarray:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageLoadError(label, "refusing to read: PIL.ImageFile.LOAD_TRUNCATED_IMAGES was switched on "
                                    "by other code, so truncated images would pass as whole ones")
    im = _open(fp, label, max_pixels)
    with im:
        try:
            im.load()  # the first frame only: we never seek
            orientation = _orientation(im)
            rgb = _to_rgb(im)
        except Image.DecompressionBombError as exc:
            raise ImageLoadError(label, f"too large, refused as a decompression bomb ({exc})") from None
        except MemoryError:
            raise ImageLoadError(label, "not enough memory to decode this image") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            raise ImageLoadError(label, f"the image data is truncated or damaged ({exc})") from None
    if orientation != 1:
        rgb = np.asarray(Image.fromarray(rgb).transpose(_ORIENTATION_FIX[orientation]))
    return np.ascontiguousarray(rgb) if rgb.flags.writeable else np.array(rgb, order="C")


def image_size(source: Source, *, name: str | None = None) -> tuple[int, int]:
    """(width, height) as displayed, i.e. after the EXIF orientation, read from the header only.

    Raises :class:`ImageLoadError` as :func:`load_image` does, except that no pixel limit applies
    beyond Pillow's own decompression-bomb guard.
    """
    with _opened(source, name) as (fp, label), _open(fp, label, max_pixels=2**62) as im:
        width, height = im.size
        if _orientation(im) in (5, 6, 7, 8):
            width, height = height, width
    return width, height


__all__ = ["SUPPORTED_EXTENSIONS", "DEFAULT_MAX_PIXELS", "load_image", "image_size"]
