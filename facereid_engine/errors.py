"""Typed errors: each names the file (or model) concerned and the cause, in words."""
from __future__ import annotations

import os


class FaceReIDError(Exception):
    """Base class of every error FaceReID raises on purpose."""


class ImageLoadError(FaceReIDError):
    """An image could not be read: missing, a folder, empty, not an image, truncated, too large."""

    def __init__(self, path: str | os.PathLike | None, cause: str):
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        where = self.path if self.path is not None else "<image bytes>"
        super().__init__(f"{where}: {cause}")


class NoFaceFoundError(FaceReIDError):
    """No face was detected in an image."""

    def __init__(self, path: str | os.PathLike | None, cause: str = "no face found"):
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        where = self.path if self.path is not None else "<image>"
        super().__init__(f"{where}: {cause}")


class ModelUnavailableError(FaceReIDError):
    """A model's weights are not available (not installed, not downloadable)."""


class ModelFileError(FaceReIDError):
    """A model file is damaged or is not the file we expect."""

    def __init__(self, path: str | os.PathLike, cause: str):
        self.path = os.fspath(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class DataFileError(FaceReIDError):
    """Labelled data (a pairs file, a folder of people) that cannot be used: names the file or
    folder, the line when there is one, and the cause."""

    def __init__(self, path: str | os.PathLike, cause: str, line: int | None = None):
        self.path = os.fspath(path)
        self.line = line
        self.cause = cause
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {cause}")


class UnknownNameError(FaceReIDError, ValueError):
    """An unknown encoder or distance name."""


class Cancelled(FaceReIDError):
    """Long work was cancelled by the caller between two steps."""
