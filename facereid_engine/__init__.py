"""FaceReID's engine: find, align and embed faces, compare them, group them, evaluate encoders.

Pure Python + PyTorch; never imports Qt. Quick start::

    import facereid_engine as fr
    result = fr.verification(img1_path="a.jpg", img2_path="b.jpg", encoder_name="dlib",
                             distance_name="euclidean", threshold=None)
    print(bool(result), result.distance, result.threshold)
"""
from __future__ import annotations

import os

# Torch's OpenMP threads spin while waiting by default; on a busy machine (the GUI's own thread,
# other programs) that spinning starves the work itself: measured 7x slower single-chip descriptors
# on 2 loaded cores. Must be set before torch is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from importlib import import_module

# Public names and the module each comes from. They load on first use, so that importing one small
# part of the engine (``facereid_engine.errors``, say) does not import torch.
_LAZY = {
    "verification": "verify", "VerificationResult": "verify",
    "FacePipeline": "pipeline", "load_image": "images",
    "get_encoder": "encoders", "available_encoders": "encoders", "card": "encoders", "cards": "encoders",
    "register_family": "encoders",
    "distance": "distances", "matrix": "distances", "DISTANCES": "distances",
    "Face": "faces", "Detection": "faces",
    "FaceReIDError": "errors", "ImageLoadError": "errors", "NoFaceFoundError": "errors",
    "ModelUnavailableError": "errors", "ModelFileError": "errors", "UnknownNameError": "errors",
    "Cancelled": "errors",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

# The modules that register the built-in encoder families, imported on first use of the registry
# (facereid_engine.encoders.registry). A family outside the package calls register_family itself.
ENCODER_FAMILY_MODULES = (
    "facereid_engine.encoders.dlib_resnet",
    "facereid_engine.encoders.sface.family",
    "facereid_engine.encoders.fused",
    "facereid_engine.encoders.imagenet",
    "facereid_engine.training.family",
)


def use(img1_path, img2_path, model_name: str, **options):
    """The study's ``fr.use``: decide with a trained model (a pair classifier or a metric head)."""
    from .training.use import use as _use
    return _use(img1_path=img1_path, img2_path=img2_path, model_name=model_name, **options)


__all__ = [
    "verification", "VerificationResult", "use", "FacePipeline", "load_image", "get_encoder",
    "available_encoders", "card", "cards", "register_family", "distance", "matrix", "DISTANCES", "Face",
    "Detection", "FaceReIDError", "ImageLoadError", "NoFaceFoundError", "ModelUnavailableError", "ModelFileError",
    "UnknownNameError", "Cancelled", "__version__",
]
