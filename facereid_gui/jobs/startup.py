"""Run once in the worker when the window has shown: import the engine, name the device, load models."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class ModelInfo:
    name: str
    role: str
    description: str
    licence: str


@dataclass
class EngineInfo:
    device: str
    encoders: list[str]
    models: list[ModelInfo] = field(default_factory=list)


# The models used whatever the encoder (their licences are dlib's, see docs/dlib-models.md).
FIXED_MODELS = [
    ModelInfo("mmod_human_face_detector", "face detector",
              "dlib's CNN face detector (MMOD), ported to PyTorch", "Public domain (dlib-models)"),
    ModelInfo("shape_predictor_5_face_landmarks", "landmarks",
              "dlib's 5-point face landmark predictor", "Public domain (dlib-models)"),
]
IMAGENET_LICENCE = "torchvision code: BSD-3-Clause; ImageNet weights: their publishers' terms"


def _encoder_words(name: str) -> tuple[str, str]:
    """(description, licence) of a built-in encoder, read from its class without loading weights."""
    try:
        if name == "dlib":
            from facereid_engine.encoders.dlib_resnet import DlibEncoder

            return DlibEncoder.description, DlibEncoder.licence
        from facereid_engine.encoders import imagenet

        spec = imagenet._SPECS[name]
        return (f"{spec.architecture} trained on ImageNet (not on faces), the original study's encoder: "
                f"{spec.cut}", imagenet.LICENCE)
    except (ImportError, AttributeError, KeyError):
        return "", IMAGENET_LICENCE


def leave_a_core_for_the_window() -> None:
    """Let torch use all CPU cores but one, so that the window stays responsive while the engine works
    (unless the user chose a number of threads with ``OMP_NUM_THREADS``)."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def engine_info() -> EngineInfo:
    """The device's name, the encoders on offer and the models with their licences."""
    leave_a_core_for_the_window()
    from facereid_engine.device import device_name
    from facereid_engine.encoders import BUILTIN_ENCODERS, available_encoders

    names = available_encoders()
    models = list(FIXED_MODELS)
    for name in BUILTIN_ENCODERS:
        description, licence = _encoder_words(name)
        models.append(ModelInfo(name, f"encoder '{name}'", description, licence))
    for name in names:
        if name not in BUILTIN_ENCODERS:
            models.append(ModelInfo(name, f"encoder '{name}'", "trained by you in FaceReID on top of "
                                    f"'{name.split('+')[0]}'", "yours; the base model's licence applies"))
    return EngineInfo(device_name(), names, models)


def load_default_models() -> None:
    """Load the detector, the landmark predictor and the default encoder (so the first photo is
    quick), and import the engine modules the pages need."""
    from facereid_engine.encoders import DEFAULT_ENCODER
    from facereid_engine.verify import get_pipeline

    pipeline = get_pipeline(DEFAULT_ENCODER)
    _ = pipeline.detector, pipeline.shape_predictor, pipeline.encoder
    # The modules the pages use later, imported here: an import holds the GIL while extension
    # modules initialise, which must not happen in the middle of the user's work.
    import facereid_engine.evaluation.charts  # noqa: F401 (matplotlib)
    import facereid_engine.evaluation.runner  # noqa: F401
    import facereid_engine.library.grouping  # noqa: F401
    import facereid_engine.library.scanning  # noqa: F401
    import matplotlib.figure  # noqa: F401
