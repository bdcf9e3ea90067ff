"""Image files (or bytes) -> RGB uint8 arrays, upright, with clear errors for anything unreadable.

Every Pillow mode is turned into 8-bit RGB the way a person would expect to see it: 16-bit (or 12-bit,
as a TIFF declares) greyscale is scaled by its real bit depth, never clipped; 32-bit integer images by
the whole bytes their values occupy; float images from [0, 1] (or [0, 255]) or else their own
min..max; transparency is laid over white; the EXIF orientation is applied; and only the first frame
of an animation or multi-page file is read. HEIC/HEIF (what iPhones save) is read with pillow-heif, a
dependency, whose opener is registered with Pillow on first use; libheif applies the photo's rotation
and mirror and resets the EXIF orientation, so it is applied once.
Decompression bombs are refused from the header, before any pixel is decoded, and so is an image whose
decoding would need more memory than a budget (:data:`DEFAULT_MAX_BYTES`): the bytes are computed
from the mode and size the header declares. Decoding never widens the whole image: conversion runs in
bands of rows written straight into the upright result, so the peak is the decoded pixels as Pillow
holds them, the 8-bit result and one band.
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
from .image_pixels import BAND_PIXELS, to_rgb

Source = Union[str, os.PathLike, bytes, bytearray, memoryview]

#: About 179 megapixels: the most Pillow's own default bomb guard lets through (twice
#: ``Image.MAX_IMAGE_PIXELS``), more than any camera sensor; decoded RGB this size is ~540 MB.
DEFAULT_MAX_PIXELS: int = 178_956_970

#: The most memory one :func:`load_image` may need (Pillow's decoded pixels, the result and one band of
#: conversion), checked from the header before decoding. A 179-megapixel RGB photo needs about 1.3 GB.
DEFAULT_MAX_BYTES: int = 2 * 1024**3

# Pillow's warning threshold (half its error threshold) is below our own limits, which are the policy:
# the warning would only reach the user's terminal. A process-wide filter, set once, because
# ``warnings.catch_warnings`` is not thread-safe and photos are decoded in threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Pillow's other warnings are about a file's damaged metadata ("Corrupt EXIF data"), which we read
# defensively (see _orientation): they would only reach the terminal as noise.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

#: Pixels converted at a time (one band of rows), so temporaries stay small whatever the image size.

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


def _register_heif() -> None:
    """Let Pillow open HEIC/HEIF with pillow-heif (first use only; a missing or broken pillow-heif
    only costs HEIC, said by :func:`_not_an_image_cause`)."""
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
            return "a HEIC/HEIF photo, and the package 'pillow-heif' that reads them is missing (reinstall FaceReID)"
    return "not an image, or not a format FaceReID can read"


def _pillow_bytes(mode: str, width: int, height: int) -> int:
    """Memory Pillow takes for an image of this mode and size: its pixels plus a pointer per row."""
    if mode in ("1", "L", "P"):
        per_pixel = 1
    elif mode.startswith(("I;16", "BGR;1")):
        per_pixel = 2
    elif mode == "BGR;24":
        per_pixel = 3
    else:
        per_pixel = 4  # RGB, RGBA, LA, CMYK, YCbCr, I, F ...: four bytes a pixel in Pillow
    return width * height * per_pixel + height * 8


def decode_bytes(mode: str, width: int, height: int) -> int:
    """Peak memory of :func:`load_image` for an image of this Pillow mode and size, in bytes:
    the decoded pixels, the (H, W, 3) result and one band of conversion temporaries."""
    band = min(width * height, max(width, BAND_PIXELS)) * 24  # float64 values, masks, an RGBA copy
    return _pillow_bytes(mode, width, height) + width * height * 3 + band


def _open(fp: BinaryIO, label: str | None, max_pixels: int, max_bytes: int | None = None) -> Image.Image:
    """Open (header only) and check the pixel count and the memory needed before anything is decoded."""
    _register_heif()
    try:
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
    if max_bytes is not None:
        need = decode_bytes(im.mode, width, height)
        if need > max_bytes:
            im.close()
            raise ImageLoadError(
                label,
                f"too large to decode: {width}x{height} {im.mode} needs about {_size(need)} of memory, above "
                f"the budget of {_size(max_bytes)} (refused without decoding)",
            )
    return im


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


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


def load_image(source: Source, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
               name: str | None = None) -> np.ndarray:
    """Read an image file (path or its bytes) as an upright (H, W, 3) uint8 RGB C-contiguous array.

    ``name`` replaces the path in error messages (useful for bytes). Raises :class:`ImageLoadError`
    naming the file and the cause: missing, a folder, empty, unreadable, not an image, truncated or
    damaged, more than ``max_pixels`` pixels, or needing more than ``max_bytes`` of memory to decode
    (both checked from the header, before decoding; see :func:`decode_bytes`).
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    with _opened(source, name) as (fp, label):
        return _decode(fp, label, max_pixels, max_bytes)


def _decode(fp: BinaryIO, label: str | None, max_pixels: int, max_bytes: int) -> np.ndarray:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageLoadError(label, "refusing to read: PIL.ImageFile.LOAD_TRUNCATED_IMAGES was switched on "
                                    "by other code, so truncated images would pass as whole ones")
    im = _open(fp, label, max_pixels, max_bytes)
    with im:
        try:
            im.load()  # the first frame only: we never seek
            return to_rgb(im, _orientation(im))
        except Image.DecompressionBombError as exc:
            raise ImageLoadError(label, f"too large, refused as a decompression bomb ({exc})") from None
        except MemoryError:
            raise ImageLoadError(label, f"not enough memory to decode this image ({im.size[0]}x{im.size[1]} "
                                        f"{im.mode})") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            raise ImageLoadError(label, f"the image data is truncated or damaged ({exc})") from None


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


__all__ = ["SUPPORTED_EXTENSIONS", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_BYTES", "load_image", "image_size",
           "decode_bytes"]
