"""A photo, larger, with its faces boxed and named: shown on demand from the Albums page."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from ..widgets.face_view import FaceView


class PhotoDialog(QDialog):
    """``boxes`` (original pixels) and ``labels`` (a name per box); ``chosen``: the face highlighted."""

    def __init__(self, path: str, boxes, labels, chosen: int = -1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(Path(path).name)
        self.view = FaceView("Loading the photo…")
        self.view.setMinimumSize(640, 480)
        self.view.setToolTip("")
        self.caption = QLabel(path)
        self.caption.setWordWrap(True)
        self._boxes, self._labels, self._chosen = list(boxes), list(labels), chosen
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.resize(960, 720)

    def show_photo(self, image: QImage, scale: float) -> None:
        self.view.set_photo(image, scale, self._boxes, self._chosen, labels=self._labels)

    def show_error(self, text: str) -> None:
        self.view.set_hint(text)
