"""A line edit with a "…" browse button beside it, and paths as the window shows them."""
from __future__ import annotations

import os
from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget


def path_row(edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
    """``edit`` with a browse button that calls ``browse``, as one widget for a form row."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    button = QToolButton()
    button.setText("…")
    button.clicked.connect(browse)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


def shown_path(path: str) -> str:
    """``path`` as the window shows it: under the user's home folder, as ``~/…``."""
    if not path:
        return path
    home = os.path.expanduser("~")
    full = os.path.abspath(os.path.expanduser(path))
    if home not in ("", "/") and (full == home or full.startswith(home.rstrip(os.sep) + os.sep)):
        return "~" + full[len(home.rstrip(os.sep)):]
    return path


def typed_path(text: str) -> str:
    """What the user typed (or :func:`shown_path` showed) as a real path: ``~`` expanded."""
    text = text.strip()
    return os.path.expanduser(text) if text else text
