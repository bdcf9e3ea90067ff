"""A line edit with a "…" browse button beside it."""
from __future__ import annotations

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
