"""The whole pipeline against dlib's own, end to end, on the same decoded pixels: the same faces
(boxes), the same landmarks, and descriptors within 1e-4."""
from __future__ import annotations

import dlib
import numpy as np
import pytest
from PIL import Image

from data_paths import GROUP, lfw_image
from facereid_engine.paths import dlib_model_path
from facereid_engine.pipeline import FacePipeline

IMAGES = [lfw_image("Angelina_Jolie", 1), lfw_image("Hugo_Chavez", 3), lfw_image("Serena_Williams", 2),
          GROUP / "photos" / "face_recognition_two_people.jpg"]


@pytest.fixture(scope="module")
def dlib_models():
    return (dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat"))),
            dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat"))),
            dlib.face_recognition_model_v1(str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat"))))


def _pixels(path) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    image.thumbnail((640, 640))  # keeps dlib's detector quick; both sides get these pixels
    return np.ascontiguousarray(np.asarray(image))


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.name)
def test_pipeline_matches_dlib(path, dlib_models):
    detector, predictor, recognizer = dlib_models
    pixels = _pixels(path)
    ours = FacePipeline("dlib", max_side=None).analyse(pixels)
    theirs = detector(pixels, 0)
    assert [f.box for f in ours] == [(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom())
                                     for d in theirs]
    assert len(ours) >= 1
    for face, det in zip(ours, theirs):
        shape = predictor(pixels, det.rect)
        np.testing.assert_array_equal(face.landmarks, [[p.x, p.y] for p in shape.parts()])
        reference = np.array(recognizer.compute_face_descriptor(pixels, shape))
        assert np.abs(face.embedding - reference).max() < 1e-4
