"""Decoding stays within a memory budget: large high-depth images are converted in bands, never widened
whole to 64 bits, and what cannot fit is refused from the header with a clear message."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from data_paths import ROOT
from facereid_engine.errors import ImageLoadError
from facereid_engine.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, decode_bytes, load_image

SIDE = 6000  # 36 megapixels: big enough to see a widening copy, quick to write and read

# Peak resident memory of one load_image in a fresh process, above what the process held before.
CHILD = """
import json, sys
from facereid_engine.images import load_image

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

before = status("VmRSS:")
image = load_image(sys.argv[1])
print(json.dumps({"shape": list(image.shape), "dtype": str(image.dtype), "before": before,
                  "peak": status("VmHWM:")}))
"""


def _pattern(side: int) -> np.ndarray:
    y = np.arange(side, dtype=np.uint32)
    return (y[:, None] * 7 + y[None, :] * 3) % 65536


@pytest.fixture(scope="module")
def large_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    values = _pattern(SIDE)
    Image.fromarray(values.astype(np.uint16)).save(folder / "grey16.png", compress_level=1)
    floats = (values.astype(np.float32) / np.float32(65535.0)) * np.float32(3.0) - np.float32(1.0)
    Image.fromarray(floats, "F").save(folder / "float.tif")
    return folder


def _peak_above_start(path) -> tuple[dict, int]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return report, report["peak"] - report["before"]


@pytest.mark.parametrize("name", ["grey16.png", "float.tif"])
def test_large_high_depth_images_decode_within_a_few_times_their_8bit_size(large_files, name):
    with Image.open(large_files / name) as im:
        assert im.mode in ("I;16", "F") and im.size == (SIDE, SIDE)
    report, peak = _peak_above_start(large_files / name)
    assert report["shape"] == [SIDE, SIDE, 3] and report["dtype"] == "uint8"
    result_bytes = SIDE * SIDE * 3
    # Pillow's own copy (2 or 4 bytes a pixel) + the 8-bit result + one band: about 2x the result.
    # Widening the whole image to 64 bits (as before) took 9x (16-bit) and 13x (float).
    assert peak < 4 * result_bytes, f"{name}: peak {peak / 2**20:.0f} MiB for a {result_bytes / 2**20:.0f} MiB result"


def test_band_conversion_matches_the_whole_image_conversion(tmp_path, monkeypatch):
    """Several bands (a narrow budget of pixels per band) give exactly what one pass gives."""
    import facereid_engine.image_pixels as pixels

    rng = np.random.default_rng(1)
    floats = rng.normal(0.5, 2.0, (300, 200)).astype(np.float32)
    floats[3, 4], floats[5, 6] = np.nan, np.inf
    Image.fromarray(floats, "F").save(tmp_path / "f.tif")
    ints = rng.integers(0, 4096, (300, 200)).astype(np.int32)
    Image.fromarray(ints, "I").save(tmp_path / "i.tif")
    whole = {name: load_image(tmp_path / name) for name in ("f.tif", "i.tif")}
    monkeypatch.setattr(pixels, "BAND_PIXELS", 200 * 7)  # 7 rows a band: 43 bands, the last one short
    banded = {name: load_image(tmp_path / name) for name in ("f.tif", "i.tif")}
    for name in whole:
        assert np.array_equal(whole[name], banded[name]), name
    # the float image is scaled over its finite min..max, as a whole (not per band)
    finite = np.where(np.isfinite(floats), floats, 0)
    lo, hi = floats[np.isfinite(floats)].min(), floats[np.isfinite(floats)].max()
    expected = np.clip(np.rint((finite.astype(np.float64) - lo) * (255.0 / (hi - lo))), 0, 255)
    assert np.array_equal(whole["f.tif"][:, :, 0], expected.astype(np.uint8))


def test_what_cannot_fit_the_budget_is_refused_from_the_header(tmp_path):
    path = tmp_path / "grey16.png"
    Image.fromarray(np.zeros((1000, 2000), np.uint16)).save(path)
    need = decode_bytes("I;16", 2000, 1000)
    assert 5 * 2_000_000 < need < 5 * 2_000_000 + 30 * 2**20  # 2 bytes decoded + 3 of result, + one band
    start = time.perf_counter()
    with pytest.raises(ImageLoadError, match=r"grey16\.png: too large to decode: 2000x1000 I;16 needs about "
                                             r"\d+ MiB of memory, above the budget of 5 MiB"):
        load_image(path, max_bytes=5 * 2**20)
    assert time.perf_counter() - start < 5.0  # header only (generous: the machine may be busy)
    assert load_image(path, max_bytes=need).shape == (1000, 2000, 3)
    # the default budget lets every image under the pixel limit through, in its widest common mode
    assert decode_bytes("RGBA", DEFAULT_MAX_PIXELS // 10_000, 10_000) < DEFAULT_MAX_BYTES
    assert decode_bytes("F", DEFAULT_MAX_PIXELS // 10_000, 10_000) < DEFAULT_MAX_BYTES


def test_decompression_bomb_warning_never_reaches_stderr(tmp_path):
    """Between Pillow's warning threshold and ours an image is simply read: no warning text leaks
    (a multi-page TIFF warned from inside Pillow's load, outside the header check)."""
    big = tmp_path / "big.tif"
    Image.new("1", (10_000, 9_500)).save(big, save_all=True, append_images=[Image.new("1", (10, 10))])
    code = ("import sys; from facereid_engine.images import image_size, load_image; "
            "print(load_image(sys.argv[1]).shape, image_size(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code, str(big)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "(9500, 10000, 3) (10000, 9500)", done.stderr
    assert done.stderr == ""
