"""The start / Cancel buttons, progress bar and status line of a page that runs long work."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton


@dataclass
class RunControls:
    start: QPushButton
    cancel: QPushButton
    buttons: QHBoxLayout
    progress: QProgressBar
    status: QLabel


def run_controls(start_text: str, on_start: Callable[[], None], on_cancel: Callable[[], None]) -> RunControls:
    """A default start button, a disabled Cancel beside it, a hidden progress bar, a selectable status."""
    start = QPushButton(start_text)
    start.setDefault(True)
    start.clicked.connect(on_start)
    cancel = QPushButton("Cancel")
    cancel.setEnabled(False)
    cancel.clicked.connect(on_cancel)
    buttons = QHBoxLayout()
    buttons.addWidget(start)
    buttons.addWidget(cancel)
    progress = QProgressBar()
    progress.hide()
    status = QLabel("")
    status.setWordWrap(True)
    status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return RunControls(start, cancel, buttons, progress, status)
