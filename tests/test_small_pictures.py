"""Small pictures (thumbnails, scans of prints) are doubled before detection, so that a face that
fills the picture is found, with either detector; large photos are not touched by the rule."""
from __future__ import annotations

import numpy as np
import pytest
from data_paths import lfw_image
from PIL import Image

from facereid_engine.images import load_image
from facereid_engine.pipeline import AUTO_UPSAMPLE_SIDE, FacePipeline


def _small(side: int, grey: bool) -> np.ndarray:
    image = Image.fromarray(load_image(lfw_image("George_W_Bush", 1))).resize((side, side), Image.BILINEAR)
    return np.asarray(image.convert("L").convert("RGB") if grey else image)


@pytest.mark.parametrize("detector", ["mmod", "yunet"])
@pytest.mark.parametrize("side,grey", [(64, True), (92, False), (128, True)])
def test_a_face_filling_a_small_picture_is_found(detector, side, grey):
    pipe = FacePipeline("dlib", detector=detector)
    faces = pipe.find_faces(_small(side, grey))
    assert len(faces) == 1
    left, top, right, bottom = faces[0].box
    assert right - left > side / 4 and left < side / 2 < right and top < side / 2 < bottom


def test_the_rule_and_its_override():
    pipe = FacePipeline("dlib", detector="mmod")
    assert pipe.upsample_for(np.zeros((64, 80, 3), np.uint8)) == 2
    assert pipe.upsample_for(np.zeros((150, 400, 3), np.uint8)) == 1
    assert pipe.upsample_for(np.zeros((AUTO_UPSAMPLE_SIDE["mmod"], 3000, 3), np.uint8)) == 0
    assert FacePipeline("dlib", upsample=0).upsample_for(np.zeros((64, 64, 3), np.uint8)) == 0
    assert FacePipeline("dlib", detector="mmod", upsample=0).detect(_small(92, False)) == []  # why the rule exists
