"""numpy RGB arrays <-> ``QImage``; safe to call from the worker thread."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_from_array(rgb: np.ndarray) -> QImage:
    """A ``QImage`` owning a copy of an (H, W, 3) uint8 RGB array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB array, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def downscaled(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``rgb`` shrunk so that its long side is at most ``max_side``, and the scale applied (<= 1)."""
    height, width = rgb.shape[:2]
    long_side = max(height, width)
    if long_side <= max_side:
        return rgb, 1.0
    from PIL import Image

    scale = max_side / long_side
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
    return small, scale
