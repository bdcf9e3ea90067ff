"""Reading local file paths out of drag-and-drop mime data (files from a file manager)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData


def local_paths(mime: QMimeData | None) -> list[str]:
    """The local files and folders named by ``mime``'s URLs (non-local URLs are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


def local_files(mime: QMimeData | None) -> list[str]:
    return [p for p in local_paths(mime) if Path(p).is_file()]


def local_folders(mime: QMimeData | None) -> list[str]:
    return [p for p in local_paths(mime) if Path(p).is_dir()]
