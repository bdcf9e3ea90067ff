"""YuNet face detector: RGB image -> faces with box, score and five landmarks (OpenCV's FaceDetectorYN)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ...device import best_device, full_fp32, per_device
from ...faces import Box, Face
from ...onnx import YUNET_FILE, load_zoo_model
from .decode import NMS_THRESHOLD, SCORE_THRESHOLD, TOP_K, postprocess
from .net import YuNet, load_yunet_weights

DIVISOR = 32
# Like the pipeline's MMOD policy: larger photos are detected on a copy scaled to this long side.
DEFAULT_MAX_SIDE = 2048


def load_yunet_net() -> YuNet:
    """YuNet with OpenCV Zoo's weights (checked by SHA-256), eval mode, on the CPU."""
    return load_yunet_weights(YuNet(), load_zoo_model(YUNET_FILE))


def padded_size(height: int, width: int) -> tuple[int, int]:
    """The input size OpenCV feeds the net: each side rounded up to a multiple of 32."""
    return (-(-height // DIVISOR) * DIVISOR, -(-width // DIVISOR) * DIVISOR)


def to_box(row: np.ndarray) -> Box:
    """The inclusive integer box (left, top, right, bottom) nearest a float (x, y, w, h)."""
    x, y, w, h = (float(v) for v in row[:4])
    left, top = math.floor(x + 0.5), math.floor(y + 0.5)
    right, bottom = math.floor(x + w + 0.5) - 1, math.floor(y + h + 0.5) - 1
    return (left, top, max(right, left), max(bottom, top))


def to_faces(rows: np.ndarray) -> list[Face]:
    """Faces from OpenCV-layout rows (K, 15): box, score, (5, 2) landmarks (YuNet's order)."""
    return [Face(to_box(r), float(r[14]), r[4:14].astype(np.float64).reshape(5, 2)) for r in rows]


class YuNetDetector:
    """OpenCV Zoo's YuNet (2023mar, int8bq) in PyTorch, with OpenCV's padding, decoding and NMS.

    Args:
        device: torch device (default: the best available).
        score_threshold, nms_threshold, top_k: OpenCV's FaceDetectorYN parameters (0.9, 0.3, 5000).
        max_side: detect on a copy scaled down to this long side (``None``: always full size); boxes and
            landmarks are mapped back to the original image.
    """

    def __init__(self, device: torch.device | str | None = None, *, score_threshold: float = SCORE_THRESHOLD,
                 nms_threshold: float = NMS_THRESHOLD, top_k: int = TOP_K,
                 max_side: int | None = DEFAULT_MAX_SIDE):
        self.device = torch.device(device) if device is not None else best_device()
        self.net = load_yunet_net().to(self.device)
        self.score_threshold, self.nms_threshold, self.top_k = score_threshold, nms_threshold, top_k
        self.max_side = max_side

    # -- the network ---------------------------------------------------------------------------
    def raw_outputs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The net's outputs (N, H*W, C) for uint8 RGB images (N, H, W, 3) of one size, padded as OpenCV pads."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
            raise ValueError(f"images must be uint8 (N, H, W, 3) RGB, got {images.dtype} {images.shape}")
        n, h, w, _ = images.shape
        ph, pw = padded_size(h, w)
        with torch.inference_mode(), full_fp32(self.device):
            x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
            x = x.flip(3).permute(0, 3, 1, 2).float()  # RGB -> BGR, as OpenCV's blob of a BGR image
            x = F.pad(x, (0, pw - w, 0, ph - h))  # bottom and right, zeros
            out = self.net(x)
            return {k: v.cpu().numpy() for k, v in out.items()}

    # -- detection -----------------------------------------------------------------------------
    def _scaled(self, image: np.ndarray) -> tuple[np.ndarray, float, float]:
        h, w = image.shape[:2]
        if self.max_side is None or max(h, w) <= self.max_side:
            return image, 1.0, 1.0
        scale = self.max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        return small, size[0] / w, size[1] / h

    def detect_raw_batch(self, images: Sequence[np.ndarray], score_threshold: float | None = None
                         ) -> list[np.ndarray]:
        """Faces of each image as OpenCV-layout rows (K, 15) float32, in original-image pixels.

        Images whose padded sizes agree run through the net together. ``score_threshold`` overrides the
        detector's own for this call.
        """
        threshold = self.score_threshold if score_threshold is None else float(score_threshold)
        prepared = []
        for image in images:
            image = np.asarray(image)
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
                raise ValueError(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")
            prepared.append(self._scaled(image))
        results: list[np.ndarray | None] = [None] * len(prepared)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (small, _, _) in enumerate(prepared):
            groups.setdefault(small.shape[:2], []).append(i)
        for (h, w), members in groups.items():
            outputs = self.raw_outputs(np.stack([prepared[i][0] for i in members]))
            ph, pw = padded_size(h, w)
            for j, i in enumerate(members):
                rows = postprocess({k: v[j] for k, v in outputs.items()}, ph, pw,
                                   threshold, self.nms_threshold, self.top_k)
                _, sx, sy = prepared[i]
                if sx != 1.0 or sy != 1.0:
                    rows = rows.copy()
                    rows[:, 0:14:2] /= np.float32(sx)
                    rows[:, 1:14:2] /= np.float32(sy)
                results[i] = rows
        return results  # type: ignore[return-value]

    def detect_raw(self, image: np.ndarray, score_threshold: float | None = None) -> np.ndarray:
        """Faces as OpenCV-layout rows (K, 15): x, y, w, h, 5 landmarks (x, y), score; best first."""
        return self.detect_raw_batch([image], score_threshold)[0]

    def detect(self, image: np.ndarray, score_threshold: float | None = None) -> list[Face]:
        """Faces (inclusive int box, score, (5, 2) landmarks), best score first."""
        return to_faces(self.detect_raw(image, score_threshold))

    def detect_batch(self, images: Sequence[np.ndarray], score_threshold: float | None = None) -> list[list[Face]]:
        return [to_faces(rows) for rows in self.detect_raw_batch(images, score_threshold)]


def _build_yunet_detector(device: torch.device) -> YuNetDetector:
    """The YuNet detector with default settings on ``device``."""
    return YuNetDetector(device=device)


load_yunet_detector = per_device(_build_yunet_detector)
