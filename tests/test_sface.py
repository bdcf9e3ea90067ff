"""SFace in PyTorch against onnxruntime on the same chips; our alignCrop against OpenCV's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import facereid_engine
from facereid_engine.detect.yunet import YuNetDetector
from facereid_engine.encoders.base import Encoder
from facereid_engine.encoders.sface import (align_crop, align_crops, load_sface_encoder,
                                            similarity_transform, warp_affine)
from facereid_engine.encoders.sface.align import TEMPLATE
from facereid_engine.images import load_image
from facereid_engine.onnx import SFACE_FILE

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
import onnx_oracle  # noqa: E402

MODEL = Path(facereid_engine.__file__).resolve().parents[1] / "resources" / "opencv_zoo" / SFACE_FILE
LFW_NAMES = [("Aaron_Peirsol", 1), ("Aaron_Peirsol", 2), ("George_W_Bush", 1), ("George_W_Bush", 2),
             ("Colin_Powell", 1), ("Colin_Powell", 2), ("Tony_Blair", 1), ("Serena_Williams", 1),
             ("Gerhard_Schroeder", 1), ("Gerhard_Schroeder", 2)]
GROUP = ["facenet-pytorch_multiface_friends_cast.jpg", "face_recognition_kit_with_rose.jpg"]


@pytest.fixture(scope="module")
def ort_sface():
    """onnxruntime on the same file; the file also lists its 29 original float weights as graph inputs
    (no node reads them), which onnxruntime would demand: keep only ``data``."""
    session = onnx_oracle.session(onnx_oracle.sface_model())

    def run(chips: np.ndarray) -> np.ndarray:  # the file's batch size is 1; the net wants RGB NCHW
        x = chips.astype(np.float32).transpose(0, 3, 1, 2)
        return np.concatenate([session.run(None, {"data": x[i:i + 1]})[0] for i in range(len(x))])
    return run


@pytest.fixture(scope="module")
def encoder():
    return load_sface_encoder()


@pytest.fixture(scope="module")
def chips(data_dir):
    detector = YuNetDetector(max_side=None)
    out = []
    for name, number in LFW_NAMES:
        image = load_image(data_dir / "lfw" / "images" / name / f"{name}_{number:04d}.jpg")
        faces = detector.detect(image)
        assert faces, name
        out.append(align_crop(image, faces[0].landmarks))
    for name in GROUP:
        image = load_image(data_dir / "group_photos" / "photos" / name)
        out.extend(align_crops(image, np.stack([f.landmarks for f in detector.detect(image)])))
    return np.stack(out)


def test_encoder_interface(encoder):
    assert isinstance(encoder, Encoder)
    assert (encoder.name, encoder.dim, encoder.chip_size) == ("sface", 128, 112)
    assert load_sface_encoder() is encoder
    with pytest.raises(ValueError):
        encoder.embed(np.zeros((1, 112, 112, 3), np.float32))
    with pytest.raises(ValueError):
        encoder.embed(np.zeros((1, 150, 150, 3), np.uint8))
    assert encoder.embed(np.zeros((0, 112, 112, 3), np.uint8)).shape == (0, 128)


def test_embeddings_match_onnxruntime(encoder, chips, ort_sface):
    assert len(chips) >= 16
    ref = ort_sface(chips)
    batched = encoder.embed(chips)
    assert batched.dtype == np.float32 and batched.shape == (len(chips), 128)
    assert np.abs(batched - ref).max() <= 1e-4
    singles = np.concatenate([encoder.embed(chips[i:i + 1]) for i in range(4)])
    assert np.abs(singles - ref[:4]).max() <= 1e-4


def test_same_person_is_closer(encoder, chips):
    v = encoder.embed(chips[:4])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    same = [float(v[0] @ v[1]), float(v[2] @ v[3])]  # two Peirsols, two Bushes
    different = [float(v[0] @ v[2]), float(v[1] @ v[3])]
    assert min(same) > 0.363 > max(different)  # OpenCV's cosine threshold for SFace


def test_similarity_transform_recovers_a_similarity():
    angle, scale, shift = 0.3, 1.7, np.array([40.0, -12.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (TEMPLATE.astype(np.float64) @ rot.T + shift).astype(np.float32)
    m = similarity_transform(points)
    back = points.astype(np.float64) @ m[:, :2].T + m[:, 2]
    # exact but for OpenCV's template mean (56.0262, 71.9008) being 4e-5 px off the template's own
    assert np.abs(back - TEMPLATE).max() < 1e-3
    assert np.allclose(m[:, :2] @ rot, np.eye(2), atol=1e-5)


def test_warp_matches_torch_grid_sample_within_fixed_point():
    """Independent formulation: float bilinear sampling (grid_sample) vs OpenCV's 1/32-pixel fixed point."""
    import torch
    import torch.nn.functional as F
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (90, 120, 3)).astype(np.uint8)
    image = np.asarray(torch.nn.functional.avg_pool2d(torch.from_numpy(image).permute(2, 0, 1).float()[None], 3, 1, 1)[0]
                       .permute(1, 2, 0).round().byte())  # smooth, so 1/32-pixel rounding moves values little
    m = np.array([[0.8, 0.15, 5.0], [-0.15, 0.8, 10.0]])
    ours = warp_affine(image, m, 112).astype(np.int64)
    inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
    ys, xs = np.mgrid[0:112, 0:112].astype(np.float64)
    sx, sy = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    grid = torch.from_numpy(np.stack([(sx + 0.5) / 120 * 2 - 1, (sy + 0.5) / 90 * 2 - 1], -1)[None]).double()
    src = torch.from_numpy(image).permute(2, 0, 1)[None].double()
    ref = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    ref = ref[0].permute(1, 2, 0).numpy()
    inside = (sx >= 0) & (sx <= 119) & (sy >= 0) & (sy <= 89)
    assert np.abs(ours - ref)[inside].max() <= 5  # at most a 1/64-pixel shift of a smoothed image
    assert np.abs(ours - ref)[inside].mean() < 0.5
    assert (ours[~inside & ((sx < -1) | (sy < -1) | (sx > 120) | (sy > 90))] == 0).all()


def test_align_crop_matches_opencv(data_dir):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "FaceRecognizerSF") or int(cv2.__version__.split(".")[0]) >= 5:
        pytest.skip("needs OpenCV 4.x's FaceRecognizerSF")
    recognizer = cv2.FaceRecognizerSF.create(str(MODEL), "")
    detector = YuNetDetector(max_side=None)
    rng = np.random.default_rng(0)
    images = [load_image(data_dir / "lfw" / "images" / n / f"{n}_{k:04d}.jpg") for n, k in LFW_NAMES[:4]]
    images += [load_image(data_dir / "group_photos" / "photos" / GROUP[0])]
    compared = 0
    for image in images:
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        rows = detector.detect_raw(image)
        jitter = rows.copy()
        jitter[:, 4:14] += rng.normal(0, 20, jitter[:, 4:14].shape).astype(np.float32)  # odd shapes too
        for row in np.concatenate([rows, jitter]):
            ref = recognizer.alignCrop(bgr, row[None])[:, :, ::-1]
            ours = align_crop(image, row[4:14].reshape(5, 2))
            diff = np.abs(ref.astype(int) - ours.astype(int))
            assert diff.max() <= 1 and (diff > 0).mean() < 0.01
            compared += 1
    assert compared >= 16
