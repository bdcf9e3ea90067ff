"""SFace (OpenCV Zoo, Apache-2.0) as an :class:`~facereid_engine.encoders.base.Encoder`, in PyTorch.

Embeddings match onnxruntime on the same ONNX file to about 2e-6. Chips are SFace's own: 112x112,
cut by :func:`align_crops` from YuNet's five landmarks (OpenCV's ``alignCrop``, ArcFace template),
not dlib's padded chips.
"""
from __future__ import annotations


import numpy as np
import torch

from ...device import best_device, per_device
from ...onnx import SFACE_FILE, load_zoo_model
from ..base import Encoder, embed_in_batches
from .align import align_crop, align_crops, sface_chips, similarity_transform, warp_affine
from .net import CHIP_SIZE, EMBEDDING_DIM, SFaceNet, load_sface_weights

__all__ = ["SFaceEncoder", "SFaceNet", "load_sface_encoder", "load_sface_net", "align_crop", "align_crops",
           "similarity_transform", "warp_affine", "sface_chips", "CHIP_SIZE", "EMBEDDING_DIM"]


def load_sface_net() -> SFaceNet:
    """The SFace network with OpenCV Zoo's weights (checked by SHA-256), eval mode, on the CPU."""
    return load_sface_weights(SFaceNet(), load_zoo_model(SFACE_FILE))


class SFaceEncoder(Encoder):
    """SFace: 112x112 RGB chip (OpenCV's alignCrop) -> 128-D raw (unnormalised) feature."""

    name = "sface"
    dim = EMBEDDING_DIM
    chip_size = CHIP_SIZE
    chip_padding = 0.0  # not dlib's padded template: chips come from align_crops (ArcFace template)
    alignment = "opencv_sface"  # the chip geometry this encoder wants: see align.py
    description = ("SFace (Zhong et al., 2021; OpenCV Zoo face_recognition_sface_2021dec, int8 "
                   "block-quantised): 112x112 chip aligned on YuNet's 5 keypoints (or dlib's landmarks) "
                   "-> 128-D. "
                   "Ported to PyTorch from the ONNX file.")
    licence = ("Apache-2.0 (OpenCV Zoo). Training data not stated by OpenCV; the SFace paper uses "
               "CASIA-WebFace, VGGFace2 and MS1M (research-only terms).")

    def __init__(self, device: torch.device | str | None = None, batch_size: int | None = None):
        self.device = torch.device(device) if device is not None else best_device()
        self.batch_size = batch_size or (512 if self.device.type == "cuda" else 64)
        self.model = load_sface_net().to(self.device)

    def chips(self, image: np.ndarray, faces) -> np.ndarray:
        """Chips (N, 112, 112, 3) of faces: alignCrop on YuNet's keypoints, else on dlib's landmarks."""
        return sface_chips(image, faces)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """uint8 (N, 112, 112, 3) RGB chips -> float32 (N, 128) SFace features."""
        # the net wants RGB NCHW floats, as the chips are RGB
        return embed_in_batches(chips, CHIP_SIZE, self.dim, self.batch_size, self.device,
                                lambda batch: self.model(batch.permute(0, 3, 1, 2).float()))


def _build_sface_encoder(device: torch.device) -> SFaceEncoder:
    """The SFace encoder on ``device``."""
    return SFaceEncoder(device=device)


load_sface_encoder = per_device(_build_sface_encoder)
