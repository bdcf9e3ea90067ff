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
    encoders: list[str]  # every encoder name, in the registry's order
    models: list[ModelInfo] = field(default_factory=list)  # the models every encoder shares (detector, landmarks)
    cards: list = field(default_factory=list)  # every encoder's EncoderCard, usable or not

    def unavailable(self) -> dict[str, str]:
        """Encoders that cannot be used here, with the reason (from their cards)."""
        return {c.name: c.unavailable for c in self.cards if c.unavailable}

    def card(self, name: str):
        """The EncoderCard of ``name``, or None when the engine did not list it."""
        return next((c for c in self.cards if c.name == name), None)


# The models used whatever the encoder (their licences are dlib's).
FIXED_MODELS = [
    ModelInfo("mmod_human_face_detector", "face detector",
              "dlib's CNN face detector (MMOD), ported to PyTorch", "Public domain (dlib-models)"),
    ModelInfo("shape_predictor_5_face_landmarks", "landmarks",
              "dlib's 5-point face landmark predictor", "Public domain (dlib-models)"),
]


def leave_a_core_for_the_window() -> None:
    """Let torch use all CPU cores but one, so that the window stays responsive while the engine works
    (unless the user chose a number of threads with ``OMP_NUM_THREADS``)."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def engine_info() -> EngineInfo:
    """The device's name, the encoders' cards (no weights are loaded) and the shared models."""
    leave_a_core_for_the_window()
    from facereid_engine.device import device_name
    from facereid_engine.encoders import cards

    every = cards()
    return EngineInfo(device_name(), [c.name for c in every], list(FIXED_MODELS), every)


def load_default_models() -> None:
    """Load the detector, the landmark predictor and the default encoder (so the first photo is
    quick), and import the engine modules the pages need."""
    from facereid_engine.encoders import DEFAULT_ENCODER
    from facereid_engine.pipeline import get_pipeline

    pipeline = get_pipeline(DEFAULT_ENCODER)
    _ = pipeline.detector, pipeline.shape_predictor, pipeline.encoder
    # The modules the pages use later, imported here: an import holds the GIL while extension
    # modules initialise, which must not happen in the middle of the user's work.
    import facereid_engine.evaluation.charts  # noqa: F401 (matplotlib)
    import facereid_engine.evaluation.runner  # noqa: F401
    import facereid_engine.library.grouping  # noqa: F401
    import facereid_engine.library.scanning  # noqa: F401
    import matplotlib.figure  # noqa: F401
