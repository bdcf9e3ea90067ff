"""YuNet's raw outputs -> faces, as OpenCV's ``FaceDetectorYN`` post-processes them.

Per stride s in (8, 16, 32) and anchor (row r, column c) of the padded input:
``score = sqrt(clamp(cls, 0, 1) * clamp(obj, 0, 1))``, kept when ``score >= score_threshold``;
box centre ``((c + dx) * s, (r + dy) * s)``, size ``(exp(dw) * s, exp(dh) * s)``, landmarks
``((c + kx) * s, (r + ky) * s)``, all in float32. When more than one face is kept, OpenCV's
``dnn::NMSBoxes`` runs on the boxes truncated to integers (x, y, w, h): scores strictly above the
threshold, a stable sort by descending score, at most ``top_k``, then greedy suppression of boxes
whose integer IoU exceeds ``nms_threshold``.

A face is a row of 15 float32: x, y, w, h, then (x, y) of the right eye, left eye, nose tip, right
mouth corner and left mouth corner (the person's right and left), then the score -- OpenCV's layout.
"""
from __future__ import annotations

import numpy as np

STRIDES = (8, 16, 32)
SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.3
TOP_K = 5000
LANDMARK_NAMES = ("right_eye", "left_eye", "nose_tip", "right_mouth_corner", "left_mouth_corner")

_F = np.float32


def decode(outputs: dict[str, np.ndarray], pad_height: int, pad_width: int,
           score_threshold: float = SCORE_THRESHOLD) -> np.ndarray:
    """Candidate faces (K, 15) float32 of one image, stride 8 first, anchors row-major.

    ``outputs`` maps ``cls_8``, ``obj_8``, ``bbox_8``, ``kps_8``, ... to arrays (H*W, C) or (1, H*W, C).
    """
    threshold = _F(score_threshold)
    rows_out = []
    for stride in STRIDES:
        rows, cols = pad_height // stride, pad_width // stride
        get = lambda name, c: np.asarray(outputs[f"{name}_{stride}"], dtype=_F).reshape(rows * cols, c)  # noqa: E731
        cls, obj = np.clip(get("cls", 1)[:, 0], _F(0), _F(1)), np.clip(get("obj", 1)[:, 0], _F(0), _F(1))
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= threshold)
        if not keep.size:
            continue
        bbox, kps = get("bbox", 4)[keep], get("kps", 10)[keep]
        r, c = (keep // cols).astype(_F), (keep % cols).astype(_F)
        s = _F(stride)
        cx, cy = (c + bbox[:, 0]) * s, (r + bbox[:, 1]) * s
        w, h = np.exp(bbox[:, 2]) * s, np.exp(bbox[:, 3]) * s
        face = np.empty((keep.size, 15), dtype=_F)
        face[:, 0], face[:, 1] = cx - w / _F(2), cy - h / _F(2)
        face[:, 2], face[:, 3] = w, h
        face[:, 4:14:2] = (kps[:, 0::2] + c[:, None]) * s
        face[:, 5:14:2] = (kps[:, 1::2] + r[:, None]) * s
        face[:, 14] = score[keep]
        rows_out.append(face)
    return np.concatenate(rows_out) if rows_out else np.zeros((0, 15), dtype=_F)


def _iou_int(a: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``1 - float(jaccardDistance)`` of integer rectangles (x, y, w, h), as cv::dnn's rectOverlap."""
    area_a = a[2] * a[3]
    areas = others[:, 2] * others[:, 3]
    iw = np.minimum(a[0] + a[2], others[:, 0] + others[:, 2]) - np.maximum(a[0], others[:, 0])
    ih = np.minimum(a[1] + a[3], others[:, 1] + others[:, 3]) - np.maximum(a[1], others[:, 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0).astype(np.float64)
    total = (area_a + areas).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(total <= 0, 0.0, 1.0 - inter / (total - inter))
    return _F(1) - distance.astype(_F)


def nms(faces: np.ndarray, score_threshold: float = SCORE_THRESHOLD, nms_threshold: float = NMS_THRESHOLD,
        top_k: int = TOP_K) -> np.ndarray:
    """Indices of the faces OpenCV's ``dnn::NMSBoxes`` keeps, best score first."""
    scores = faces[:, 14]
    candidates = np.flatnonzero(scores > _F(score_threshold))
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    if 0 < top_k < order.size:
        order = order[:top_k]
    boxes = np.trunc(faces[:, :4]).astype(np.int64)  # C++ int(float): toward zero
    kept: list[int] = []
    limit = _F(nms_threshold)
    for idx in order:
        if not kept or np.all(_iou_int(boxes[idx], boxes[kept]) <= limit):
            kept.append(int(idx))
    return np.asarray(kept, dtype=np.int64)


def postprocess(outputs: dict[str, np.ndarray], pad_height: int, pad_width: int,
                score_threshold: float = SCORE_THRESHOLD, nms_threshold: float = NMS_THRESHOLD,
                top_k: int = TOP_K) -> np.ndarray:
    """OpenCV's post-processing: decode, then NMS when more than one face; (K, 15) float32."""
    faces = decode(outputs, pad_height, pad_width, score_threshold)
    if len(faces) <= 1:
        return faces
    return faces[nms(faces, score_threshold, nms_threshold, top_k)]
