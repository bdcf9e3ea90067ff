"""Where OpenCV Zoo's model files live (``resources/opencv_zoo``) and their SHA-256 check at load.

The resources folder is ``<repo root>/resources`` next to the ``facereid_engine`` package (the
project is installed editable); ``FACEREID_RESOURCES`` points elsewhere.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import facereid_engine

from ..errors import ModelFileError, ModelUnavailableError
from .reader import Model, read_model

ZOO_DIR = "opencv_zoo"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
# The digests we accept; resources/opencv_zoo/SHA256SUMS says the same for people and sha256sum -c.
SHA256 = {
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}


def resources_dir() -> Path:
    """``$FACEREID_RESOURCES`` if set, else ``resources/`` beside the ``facereid_engine`` package."""
    env = os.environ.get("FACEREID_RESOURCES", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(facereid_engine.__file__).resolve().parents[1] / "resources"


def zoo_model_path(filename: str) -> Path:
    """Path of one of the OpenCV Zoo files; :class:`ModelUnavailableError` if it is not there."""
    if filename not in SHA256:
        raise ModelUnavailableError(f"{filename}: not one of the OpenCV Zoo files FaceReID knows")
    path = resources_dir() / ZOO_DIR / filename
    if not path.is_file():
        raise ModelUnavailableError(
            f"{path}: OpenCV Zoo model file not found (restore resources/{ZOO_DIR}/ from the FaceReID "
            f"sources, or set FACEREID_RESOURCES to a folder holding {ZOO_DIR}/{filename})")
    return path


def read_verified(path: str | os.PathLike, expected_sha256: str) -> bytes:
    """The file's bytes, after checking their SHA-256; :class:`ModelFileError` if they differ."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelFileError(path, f"cannot read model file ({exc.strerror or exc})") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise ModelFileError(path, f"the file is not the expected model (SHA-256 {digest}, expected "
                                   f"{expected_sha256}); it is damaged or was replaced")
    return data


@lru_cache(maxsize=4)
def _load(path: str, sha: str, mtime_ns: int, size: int) -> Model:
    return read_model(path, read_verified(path, sha))


def load_zoo_model(filename: str) -> Model:
    """Locate, verify (SHA-256) and parse one OpenCV Zoo ONNX file (cached while the file is unchanged)."""
    path = zoo_model_path(filename)
    stat = path.stat()
    return _load(str(path), SHA256[filename], stat.st_mtime_ns, stat.st_size)
