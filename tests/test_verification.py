"""End-to-end verification with the real dlib models on real LFW and group photos."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import facereid_engine as fr
from data_paths import GROUP, lfw_image
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.encoders import card
from facereid_engine.thresholds import default_threshold

BUSH_1, BUSH_2 = lfw_image("George_W_Bush", 1), lfw_image("George_W_Bush", 2)
POWELL = lfw_image("Colin_Powell", 1)


def test_same_person():
    result = fr.verification(BUSH_1, BUSH_2)
    assert result and result.verified
    assert result.encoder_name == DEFAULT_ENCODER == "fused" and result.distance_name == "euclidean"
    calibrated = default_threshold(DEFAULT_ENCODER, "euclidean")
    assert (result.threshold, result.threshold_provisional) == (calibrated[0], False)
    assert default_threshold("dlib", "euclidean")[0] == pytest.approx(0.6, abs=0.05)  # near dlib's own rule
    assert 0.0 < result.distance < result.threshold
    assert len(result.face1.box) == 4 and result.face1.landmarks.shape == (5, 2)
    assert result.face1.embedding.shape == (card(DEFAULT_ENCODER).dim,)


def test_different_people():
    result = fr.verification(BUSH_1, POWELL)
    assert not result
    assert result.distance > result.threshold


def test_study_keyword_api_and_every_distance():
    for name in ("euclidean", "euclidean_l2", "euclidean-l2", "cosine"):
        same = fr.verification(img1_path=str(BUSH_1), img2_path=str(BUSH_2), encoder_name="dlib",
                               distance_name=name, threshold=None)
        diff = fr.verification(img1_path=str(BUSH_1), img2_path=str(POWELL), encoder_name="dlib",
                               distance_name=name, threshold=None)
        assert same.distance < diff.distance
        assert bool(same) and not bool(diff), name
    explicit = fr.verification(img1_path=BUSH_1, img2_path=BUSH_2, threshold=0.01)
    assert not explicit and explicit.threshold == 0.01


def test_no_face_raises_and_face_crop_uses_whole_image(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (120, 130, 140)).save(blank)
    with pytest.raises(fr.NoFaceFoundError, match="blank.png"):
        fr.verification(blank, BUSH_1)
    # a tight crop of a face: the detector may miss it; as a declared crop it is the face
    crop = tmp_path / "crop.png"
    Image.open(BUSH_2).crop((68, 68, 182, 182)).save(crop)
    result = fr.verification(BUSH_1, crop, face_crop=(False, True))
    assert result.faces2[0].box == (0, 0, 113, 113)
    assert result, result.distance


def test_closest_pair_in_a_group_photo():
    group = GROUP / "photos" / "face_recognition_two_people.jpg"
    biden = GROUP / "enrollment" / "biden" / "biden.jpg"
    obama = GROUP / "enrollment" / "obama" / "obama.jpg"
    for person in (biden, obama):
        result = fr.verification(person, group, compare="closest")
        assert len(result.faces2) == 2
        assert result, (person, result.distance)
    # the two people of the group photo are matched to different faces
    i_biden = fr.verification(biden, group, compare="closest").face2_index
    i_obama = fr.verification(obama, group, compare="closest").face2_index
    assert i_biden != i_obama


def test_arrays_and_bytes_are_accepted():
    pixels = np.asarray(Image.open(BUSH_1).convert("RGB"))
    result = fr.verification(pixels, BUSH_2.read_bytes())
    reference = fr.verification(BUSH_1, BUSH_2)
    assert result.distance == pytest.approx(reference.distance, abs=1e-6)
