"""Unusual but valid images (CMYK, 16-bit, palette, RGBA, EXIF-rotated, non-ASCII names) give the
same verdict as the ordinary image."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import facereid_engine as fr
from data_paths import lfw_image

BASE = lfw_image("Tony_Blair", 1)
SAME = lfw_image("Tony_Blair", 2)
OTHER = lfw_image("Donald_Rumsfeld", 1)


def _variants(tmp_path):
    rgb = Image.open(BASE).convert("RGB")
    out = {}
    out["cmyk.jpg"] = rgb.convert("CMYK")
    out["palette.png"] = rgb.quantize(256)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(255)
    out["rgba.png"] = rgba
    sixteen = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    out["grey16.png"] = Image.fromarray(sixteen)
    out["Zoë_日本.jpg"] = rgb
    paths = {}
    for name, im in out.items():
        path = tmp_path / name
        im.save(path, quality=95) if name.endswith(".jpg") else im.save(path)
        paths[name] = path
    # EXIF orientation 6 (rotate 90° clockwise to display): store the pixels turned the other way
    rotated = rgb.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "exif6.jpg"
    rotated.save(path, quality=95, exif=exif)
    paths["exif6.jpg"] = path
    return paths


def test_same_verdicts_as_the_ordinary_image(tmp_path):
    plain_same = fr.verification(BASE, SAME)
    plain_other = fr.verification(BASE, OTHER)
    assert plain_same and not plain_other
    for name, path in _variants(tmp_path).items():
        same = fr.verification(path, SAME)
        other = fr.verification(path, OTHER)
        assert bool(same) and not bool(other), name
        # the pixels differ a little (JPEG re-encoding, a 256-colour palette, grey): the distance moves
        # a little, far less than the margin to the threshold
        assert same.distance == pytest.approx(plain_same.distance, abs=0.12), name
