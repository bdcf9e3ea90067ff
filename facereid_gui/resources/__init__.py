"""Icons of the app: small SVG files drawn by hand, loaded with :func:`icon`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

HERE = Path(__file__).resolve().parent


def icon(name: str) -> QIcon:
    """The icon ``resources/<name>.svg`` (an empty icon if it is missing)."""
    path = HERE / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
