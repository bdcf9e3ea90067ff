"""load_image / image_size on real LFW photos re-saved in every mode, and every way a file can be bad."""
from __future__ import annotations

import os
import shutil
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from facereid_engine.errors import ImageLoadError
from facereid_engine.images import DEFAULT_MAX_PIXELS, SUPPORTED_EXTENSIONS, image_size, load_image

from data_paths import lfw_image

PHOTO = lfw_image("Aaron_Eckhart", 1)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    """The LFW photo as Pillow decodes it, cropped to 250x180 so rotations change the shape."""
    with Image.open(PHOTO) as im:
        return np.asarray(im.convert("RGB"))[:, 35:215].copy()


def decoded(path) -> np.ndarray:
    """The stored pixels (no orientation) as Pillow gives them, for formats that round-trip exactly."""
    with Image.open(path) as im:
        return np.asarray(im)


def check_array(a: np.ndarray, shape) -> None:
    assert a.dtype == np.uint8 and a.shape == tuple(shape)
    assert a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]


def test_plain_jpeg_path_and_bytes():
    a = load_image(PHOTO)
    check_array(a, (250, 250, 3))
    with Image.open(PHOTO) as im:
        assert np.array_equal(a, np.asarray(im.convert("RGB")))
    assert np.array_equal(load_image(PHOTO.read_bytes(), name="x.jpg"), a)
    assert np.array_equal(load_image(str(PHOTO)), a)
    assert image_size(PHOTO) == (250, 250)
    assert image_size(PHOTO.read_bytes()) == (250, 250)


def test_supported_extensions():
    assert {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif"} <= SUPPORTED_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in SUPPORTED_EXTENSIONS)


@pytest.mark.parametrize("orientation, upright", [(1, None), (3, Image.Transpose.ROTATE_180),
                                                  (6, Image.Transpose.ROTATE_270), (8, Image.Transpose.ROTATE_90)])
def test_heic_photo_upright(tmp_path, rgb, orientation, upright):
    """An iPhone-style HEIC made with pillow-heif, its EXIF orientation set: read upright, rotated once."""
    import pillow_heif

    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(Image.fromarray(rgb)).save(path, quality=-1, exif=exif.tobytes())
    expected = np.asarray(Image.fromarray(rgb).transpose(upright)) if upright is not None else rgb
    for a in (load_image(path), load_image(path.read_bytes(), name=path.name)):
        check_array(a, expected.shape)
        assert np.abs(a.astype(int) - expected).mean() < 2  # lossless luma, subsampled chroma
    assert image_size(path) == (expected.shape[1], expected.shape[0])


def test_non_ascii_file_name(tmp_path):
    path = tmp_path / "Zoë_日本.jpg"
    shutil.copyfile(PHOTO, path)
    assert np.array_equal(load_image(path), load_image(PHOTO))
    assert image_size(path) == (250, 250)


def test_greyscale_and_one_bit(tmp_path, rgb):
    grey = Image.fromarray(rgb).convert("L")
    grey.save(tmp_path / "l.png")
    a = load_image(tmp_path / "l.png")
    check_array(a, (250, 180, 3))
    assert np.array_equal(a, np.repeat(np.asarray(grey)[:, :, None], 3, axis=2))

    grey.convert("1").save(tmp_path / "bw.png")
    bits = decoded(tmp_path / "bw.png")
    assert bits.dtype == bool and bits.any() and not bits.all()
    a = load_image(tmp_path / "bw.png")
    assert np.array_equal(a, np.repeat(bits[:, :, None].astype(np.uint8) * 255, 3, axis=2))


def over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    al = alpha.astype(np.float64)[:, :, None] / 255.0
    return np.rint(rgb * al + 255.0 * (1.0 - al)).astype(np.uint8)


def test_rgba_and_la_over_white(tmp_path, rgb):
    h, w = rgb.shape[:2]
    alpha = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "rgba.png")
    a = load_image(tmp_path / "rgba.png")
    check_array(a, (h, w, 3))
    assert np.array_equal(a[:, -1], rgb[:, -1])  # opaque column unchanged
    assert (a[:, 0] == 255).all()  # transparent column is white
    assert np.abs(a.astype(int) - over_white(rgb, alpha)).max() <= 1

    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(tmp_path / "la.png")
    a = load_image(tmp_path / "la.png")
    expected = over_white(np.repeat(grey[:, :, None], 3, axis=2), alpha)
    assert np.abs(a.astype(int) - expected).max() <= 1
    assert np.array_equal(a[:, -1, 0], grey[:, -1])


def test_palette_with_and_without_transparency(tmp_path, rgb):
    pal_im = Image.fromarray(rgb).quantize(64)
    pal_im.save(tmp_path / "p.png")
    index = decoded(tmp_path / "p.png")
    palette = np.array(pal_im.getpalette()[: 64 * 3], dtype=np.uint8).reshape(-1, 3)
    assert np.array_equal(load_image(tmp_path / "p.png"), palette[index])

    hidden = int(np.bincount(index.ravel()).argmax())  # the most common colour becomes transparent
    pal_im.save(tmp_path / "pt.png", transparency=hidden)
    a = load_image(tmp_path / "pt.png")
    expected = palette[index].copy()
    expected[index == hidden] = 255
    assert np.array_equal(a, expected)


def test_cmyk_jpeg(tmp_path, rgb):
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    with Image.open(tmp_path / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
    a = load_image(tmp_path / "cmyk.jpg")
    check_array(a, rgb.shape)
    assert np.abs(a.astype(int) - rgb).mean() < 3.0  # the same photo, up to JPEG loss


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path, rgb):
    grey = np.asarray(Image.fromarray(rgb).convert("L")).astype(np.int64)
    grey[0, 0], grey[0, 1] = 0, 255
    rng = np.random.default_rng(0)
    v16 = (grey * 257 + rng.integers(-128, 128, grey.shape)).clip(0, 65535).astype(np.uint16)
    v16[0, 0], v16[0, 1] = 0, 65535
    Image.fromarray(v16).save(tmp_path / "g16.png")
    assert decoded(tmp_path / "g16.png").dtype == np.uint16  # really stored as 16 bits
    a = load_image(tmp_path / "g16.png")
    expected = np.rint(v16 / 65535.0 * 255.0).astype(np.uint8)
    assert np.array_equal(a[:, :, 0], expected) and np.array_equal(a[:, :, 2], expected)
    assert np.abs(a[:, :, 0].astype(int) - grey).max() <= 1
    assert a[0, 0, 0] == 0 and a[0, 1, 0] == 255 and (a[:, :, 0] < 255).mean() > 0.9


def test_tiff_modes(tmp_path, rgb):
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    # 16-bit big-endian, 32-bit integer holding 16-bit data, float in [0, 1]
    v16 = grey.astype(np.uint16) * 257
    Image.fromarray(v16).convert("I").convert("I;16B").save(tmp_path / "i16b.tif")
    assert Image.open(tmp_path / "i16b.tif").mode == "I;16B"
    Image.fromarray(v16.astype(np.int32), "I").save(tmp_path / "i32.tif")
    Image.fromarray(grey.astype(np.float32) / 255.0, "F").save(tmp_path / "f.tif")
    for name in ("i16b.tif", "i32.tif", "f.tif"):
        a = load_image(tmp_path / name)
        assert np.array_equal(a, np.repeat(grey[:, :, None], 3, axis=2)), name
    # colour spaces: YCbCr, CMYK, LAB, RGBX as stored in TIFF
    for mode in ("YCbCr", "CMYK", "LAB", "RGBX"):
        Image.fromarray(rgb).convert(mode).save(tmp_path / f"{mode}.tif")
        a = load_image(tmp_path / f"{mode}.tif")
        check_array(a, rgb.shape)
        assert np.abs(a.astype(int) - rgb).mean() < 3.0, mode


def test_first_frame_of_animations_and_pages(tmp_path, rgb):
    first, second = Image.fromarray(rgb), Image.fromarray(255 - rgb)
    first.save(tmp_path / "pages.tif", save_all=True, append_images=[second])
    assert Image.open(tmp_path / "pages.tif").n_frames == 2
    assert np.array_equal(load_image(tmp_path / "pages.tif"), rgb)

    first.save(tmp_path / "anim.webp", save_all=True, append_images=[second], lossless=True, duration=100)
    assert Image.open(tmp_path / "anim.webp").n_frames == 2
    assert np.array_equal(load_image(tmp_path / "anim.webp"), rgb)

    q1, q2 = first.quantize(128), second.quantize(128)
    q1.save(tmp_path / "anim.gif", save_all=True, append_images=[q2], duration=100)
    assert Image.open(tmp_path / "anim.gif").n_frames == 2
    a = load_image(tmp_path / "anim.gif")
    assert np.abs(a.astype(int) - np.asarray(q1.convert("RGB"))).max() <= 1


# The pixels a viewer shows for each EXIF orientation, written independently of Pillow.
UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}
STORED = {**UPRIGHT, 6: UPRIGHT[8], 8: UPRIGHT[6]}  # the inverse of each (6 and 8 swap)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation(tmp_path, rgb, orientation):
    stored = STORED.get(orientation, lambda a: a)(rgb)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, quality=95)
    a = load_image(path)
    check_array(a, rgb.shape)
    assert np.array_equal(a, UPRIGHT.get(orientation, lambda x: x)(decoded(path)))
    assert np.abs(a.astype(int) - rgb).mean() < 3.0  # upright again, up to JPEG loss
    assert image_size(path) == (180, 250)


def test_missing_folder_empty_and_fifo(tmp_path):
    missing = tmp_path / "gone.jpg"
    with pytest.raises(ImageLoadError, match="file not found") as err:
        load_image(missing)
    assert err.value.path == str(missing) and str(missing) in str(err.value)
    with pytest.raises(ImageLoadError, match="is a folder") as err:
        load_image(tmp_path)
    assert str(tmp_path) in str(err.value)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty \(0 bytes\)") as err:
        image_size(tmp_path / "empty.jpg")
    assert "empty.jpg" in str(err.value)
    with pytest.raises(ImageLoadError, match=r"upload\.png: the image data is empty"):
        load_image(b"", name="upload.png")
    os.mkfifo(tmp_path / "pipe.jpg")
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(tmp_path / "pipe.jpg")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("shopping list: bread, milk\n")
    with pytest.raises(ImageLoadError, match=r"notes\.jpg: not an image"):
        load_image(tmp_path / "notes.jpg")
    with pytest.raises(ImageLoadError, match=r"^<image bytes>: not an image"):
        load_image(b"\x00\x01\x02 definitely not a picture")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(ImageLoadError, match=r"IMG_0001\.HEIC: "):  # a damaged HEIC: an error, never a crash
        load_image(heic, name="IMG_0001.HEIC")


def test_truncated_jpeg_and_png_fail(tmp_path, rgb):
    data = PHOTO.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    Image.fromarray(rgb).save(tmp_path / "whole.png")
    png = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(png[: len(png) // 2])
    for name in ("cut.jpg", "cut.png"):
        with pytest.raises(ImageLoadError, match="truncated") as err:
            load_image(tmp_path / name)
        assert name in str(err.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_permission_denied(tmp_path):
    path = tmp_path / "secret.jpg"
    shutil.copyfile(PHOTO, path)
    path.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(ImageLoadError, match="permission denied") as err:
            load_image(path)
        assert "secret.jpg" in str(err.value)
        return
    # root reads anything: ask a forked child that gave up root to read it
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            load_image(path)
            message = "loaded"
        except ImageLoadError as exc:
            message = str(exc)
        except BaseException as exc:
            message = f"other error: {exc!r}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    message = os.read(read_end, 4096).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert "secret.jpg" in message and "permission denied" in message, message


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def gif_header(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x08\x02\x4c\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def test_decompression_bombs_refused_quickly(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header(50000, 50000))
    (tmp_path / "bomb.gif").write_bytes(gif_header(50000, 50000))
    (tmp_path / "big.gif").write_bytes(gif_header(12000, 12000))
    start = time.perf_counter()
    for name in ("bomb.png", "bomb.gif"):
        with pytest.raises(ImageLoadError, match="too large") as err:
            load_image(tmp_path / name)
        assert name in str(err.value)
    # under Pillow's own guard but above ours: our header check refuses it
    with pytest.raises(ImageLoadError, match=r"big\.gif: too large: 12000x12000 = 144,000,000 pixels .* 100,000,000"):
        load_image(tmp_path / "big.gif", max_pixels=100_000_000)
    with pytest.raises(ImageLoadError, match=r"too large: 250x250 = 62,500 pixels"):
        load_image(PHOTO, max_pixels=62_499)
    assert time.perf_counter() - start < 0.5
    assert load_image(PHOTO, max_pixels=62_500).shape == (250, 250, 3)
    assert DEFAULT_MAX_PIXELS >= 100_000_000  # big camera photos pass
    assert image_size(tmp_path / "big.gif") == (12000, 12000)  # the header alone, nothing decoded


def test_nothing_written_next_to_the_source(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "a.png")
    shutil.copyfile(PHOTO, tmp_path / "b.jpg")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    for name in ("a.png", "b.jpg"):
        load_image(tmp_path / name)
        image_size(tmp_path / name)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
