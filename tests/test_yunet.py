"""YuNet in PyTorch against onnxruntime's raw outputs through the same decoding, OpenCV's decoding
checked by hand, and the faces found against dlib's detector."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import facereid_engine
from facereid_engine.detect.yunet import (YuNetDetector, decode, load_yunet_detector, nms, padded_size,
                                          postprocess, to_box)
from facereid_engine.faces import Face
from facereid_engine.images import load_image
from facereid_engine.onnx import YUNET_FILE

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
import onnx_oracle  # noqa: E402

MODEL = Path(facereid_engine.__file__).resolve().parents[1] / "resources" / "opencv_zoo" / YUNET_FILE
LFW_NAMES = [("Aaron_Peirsol", 1), ("George_W_Bush", 2), ("Colin_Powell", 1), ("Serena_Williams", 1)]
CROWDS = ["deepface_selfie-many-people.jpg", "face_recognition_kit_with_rose.jpg",
          "face_recognition_two_people.jpg", "facenet-pytorch_multiface_friends_cast.jpg"]


@pytest.fixture(scope="module")
def ort_yunet():
    """onnxruntime on the same file, input size left free. onnxruntime refuses a blocked
    DequantizeLinear whose one block covers the whole tensor: make those per-tensor (same arithmetic)."""
    session = onnx_oracle.session(onnx_oracle.yunet_model())
    names = [o.name for o in session.get_outputs()]

    def run(image: np.ndarray) -> tuple[dict[str, np.ndarray], int, int]:
        """Raw outputs for an RGB image, padded and channel-swapped as OpenCV does."""
        h, w = image.shape[:2]
        ph, pw = padded_size(h, w)
        x = np.zeros((1, 3, ph, pw), np.float32)
        x[0, :, :h, :w] = image[:, :, ::-1].transpose(2, 0, 1)  # BGR
        return dict(zip(names, session.run(None, {"input": x}))), ph, pw
    return run


@pytest.fixture(scope="module")
def detector():
    return YuNetDetector(max_side=None)


def _images(data_dir, all_group_photos: bool = True) -> dict[str, np.ndarray]:
    out = {f"{n}_{k}": load_image(data_dir / "lfw" / "images" / n / f"{n}_{k:04d}.jpg") for n, k in LFW_NAMES}
    photos = sorted((data_dir / "group_photos" / "photos").iterdir()) if all_group_photos else \
        [data_dir / "group_photos" / "photos" / name for name in CROWDS]
    out.update({p.name: load_image(p) for p in photos})
    return out


def _assert_same_faces(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert ours.shape == ref.shape, f"{what}: {len(ours)} faces, onnxruntime's {len(ref)}"
    if not len(ref):
        return
    coords = np.abs(ours[:, :14] - ref[:, :14])
    # float32 rounding of convolutions whose summation order follows torch's thread count (the GUI
    # tests set it to one thread in this same process): measured up to 1.5e-4 px; 5e-4 px allowed
    assert (coords <= 5e-4).all(), f"{what}: coordinates differ by {coords.max()}"
    assert [to_box(r) for r in ours] == [to_box(r) for r in ref], f"{what}: integer boxes differ"
    assert np.abs(ours[:, 14] - ref[:, 14]).max() <= 1e-5, what


def test_raw_outputs_match_onnxruntime(detector, ort_yunet, data_dir):
    image = load_image(data_dir / "group_photos" / "photos" / CROWDS[3])
    ref, _, _ = ort_yunet(image)
    ours = detector.raw_outputs(image[None])
    for name, value in ref.items():
        assert ours[name].shape == value.shape
        assert np.abs(ours[name] - value).max() <= 2e-5, name


def test_faces_match_onnxruntime(detector, ort_yunet, data_dir):
    images = _images(data_dir)
    found = 0
    for name, image in images.items():
        ref = postprocess(*ort_yunet(image))
        ours = detector.detect_raw(image)
        _assert_same_faces(ours, ref, name)
        found += len(ours)
    assert found >= 22


def test_batch_equals_one_by_one(detector, data_dir):
    images = list(_images(data_dir, all_group_photos=False).values())
    batched = detector.detect_raw_batch(images)
    for image, rows in zip(images, batched):
        _assert_same_faces(rows, detector.detect_raw(image), "batch")


def test_faces_match_opencv(detector, data_dir):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "FaceDetectorYN") or int(cv2.__version__.split(".")[0]) >= 5:
        pytest.skip("needs OpenCV 4.x's FaceDetectorYN")
    for name, image in _images(data_dir, all_group_photos=False).items():
        h, w = image.shape[:2]
        _, ref = cv2.FaceDetectorYN.create(str(MODEL), "", (w, h)).detect(np.ascontiguousarray(image[:, :, ::-1]))
        ref = np.zeros((0, 15), np.float32) if ref is None else ref
        ours = detector.detect_raw(image)
        assert ours.shape == ref.shape, name
        assert np.abs(ours - ref).max() <= 5e-4, name  # OpenCV's own convolutions round differently


def test_faces_agree_with_dlib(data_dir):
    """Independent check: every face YuNet finds in the crowd photos is one dlib's detector finds."""
    from facereid_engine.detect import load_detector
    dlib_detector = load_detector()
    yunet = load_yunet_detector()
    total_dlib = total_matched = 0
    for name in CROWDS:
        image = load_image(data_dir / "group_photos" / "photos" / name)
        theirs = [d.box for d in dlib_detector.detect(image)]
        ours = yunet.detect(image)
        assert len(ours) >= max(1, len(theirs) - 1), name
        for face in ours:
            eyes = face.landmarks[:2].mean(axis=0)
            assert any(l <= eyes[0] <= r and t <= eyes[1] <= b for l, t, r, b in theirs), (name, face.box)
        total_dlib += len(theirs)
        total_matched += len(ours)
    assert total_matched >= 0.9 * total_dlib


def test_landmark_order_and_faces(detector, data_dir):
    for name, number in LFW_NAMES:
        image = load_image(data_dir / "lfw" / "images" / name / f"{name}_{number:04d}.jpg")
        faces = detector.detect(image)
        assert isinstance(faces[0], Face) and faces[0].score >= 0.9
        (rex, rey), (lex, ley), (nx, ny), (rmx, rmy), (lmx, lmy) = faces[0].landmarks
        assert rex < nx < lex and rmx < lmx  # the person's right eye is on the image's left
        assert max(rey, ley) < ny < min(rmy, lmy)
        l, t, r, b = faces[0].box
        assert 60 < r - l < 200 and l < rex and lex < r and t < rey and lmy < b


def test_max_side_maps_back_to_the_original(data_dir):
    image = load_image(data_dir / "group_photos" / "photos" / CROWDS[2])  # 661 x 1126
    full = YuNetDetector(max_side=None).detect_raw(image)
    small = YuNetDetector(max_side=800).detect_raw(image)
    assert len(full) == len(small) == 2
    for a in full:
        b = small[np.argmin(np.abs(small[:, 0] - a[0]))]
        assert np.abs(a[:14] - b[:14]).max() < 0.1 * a[2]


def test_decode_by_hand():
    """One anchor at stride 16, row 2, column 3 of a 64 x 96 input: OpenCV's formulas."""
    outputs = {}
    for stride in (8, 16, 32):
        n = (64 // stride) * (96 // stride)
        outputs.update({f"cls_{stride}": np.zeros((n, 1), np.float32), f"obj_{stride}": np.zeros((n, 1), np.float32),
                        f"bbox_{stride}": np.zeros((n, 4), np.float32), f"kps_{stride}": np.zeros((n, 10), np.float32)})
    idx = 2 * 6 + 3
    outputs["cls_16"][idx], outputs["obj_16"][idx] = 1.2, 0.81  # cls is clamped to 1
    outputs["bbox_16"][idx] = [0.5, -0.25, np.log(2.0), 0.0]
    outputs["kps_16"][idx] = np.arange(10) / 10
    faces = decode(outputs, 64, 96)
    assert faces.shape == (1, 15)
    cx, cy, w, h = (3 + 0.5) * 16, (2 - 0.25) * 16, 32.0, 16.0
    assert np.allclose(faces[0, :4], [cx - w / 2, cy - h / 2, w, h], atol=1e-5)
    kps = np.arange(10, dtype=np.float32).reshape(5, 2) / 10
    assert np.allclose(faces[0, 4:14].reshape(5, 2), (kps + [3, 2]) * 16, atol=1e-5)
    assert faces[0, 14] == np.float32(0.9)
    assert postprocess(outputs, 64, 96).shape == (1, 15)  # one face: no NMS, even at the threshold


def test_nms_like_opencv():
    def face(x, y, w, h, score):
        row = np.zeros(15, np.float32)
        row[:4], row[14] = (x, y, w, h), score
        return row
    faces = np.stack([face(0, 0, 10, 10, 0.95), face(1.9, 0.5, 10, 10, 0.97), face(50, 50, 10, 10, 0.95),
                      face(6.5, 0, 10, 10, 0.96), face(100, 0, 5, 5, 0.9)])
    # integer boxes (0,0), (1,0), (50,50), (6,0): IoU(1 vs 0) = 90/110 suppressed; IoU(6 vs 1) = 50/150 = 0.33 > 0.3
    # suppressed; equal scores keep their order; a score equal to the threshold is dropped (strict >)
    assert nms(faces).tolist() == [1, 2]
    assert nms(faces, top_k=1).tolist() == [1]
    assert nms(faces, nms_threshold=0.35).tolist() == [1, 3, 2]


def test_to_box_and_errors(detector):
    assert to_box(np.array([10.4, 20.6, 30.0, 40.0])) == (10, 21, 39, 60)
    with pytest.raises(ValueError):
        detector.detect(np.zeros((10, 10), np.uint8))
    assert detector.detect(np.zeros((40, 50, 3), np.uint8)) == []
