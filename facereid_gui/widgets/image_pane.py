"""One side of the Compare page: a photo that accepts drops and clicks, its faces, the chosen chip."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from .drops import local_files
from .face_view import FaceView

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif *.heic *.heif);;All files (*)"
CHIP_SIDE = 112


class ImagePane(QFrame):
    """Signals: ``files_dropped(list)`` (from a drop or the open dialog), ``face_chosen(int)``,
    ``whole_image_requested()`` (the user says the photo is already a face crop)."""

    files_dropped = Signal(list)
    face_chosen = Signal(int)
    whole_image_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"pane-{title}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.path: str | None = None
        self.start_dir = ""

        self.title = QLabel(f"<b>{title}</b>")
        self.file_label = QLabel("")
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open…")
        self.open_button.clicked.connect(self.open_dialog)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.file_label, 1)
        header.addWidget(self.open_button)

        self.view = FaceView("Drop a photo here\nor click to open one")
        self.view.background_clicked.connect(self.open_dialog)
        self.view.face_clicked.connect(self.face_chosen)

        self.chip = QLabel()
        self.chip.setFixedSize(CHIP_SIDE, CHIP_SIDE)
        self.chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chip.setFrameShape(QFrame.Shape.StyledPanel)
        self.chip.setToolTip("The chosen face, aligned as the encoder sees it")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.whole_button = QPushButton("Use the whole photo as the face")
        self.whole_button.setToolTip("For photos that are already cropped to one face")
        self.whole_button.clicked.connect(self.whole_image_requested)
        self.whole_button.hide()
        words = QVBoxLayout()
        words.addWidget(self.message)
        words.addWidget(self.whole_button, 0, Qt.AlignmentFlag.AlignLeft)
        words.addStretch(1)
        footer = QHBoxLayout()
        footer.addWidget(self.chip)
        footer.addLayout(words, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        layout.addLayout(footer)

    # -- what the page shows ------------------------------------------------------------------
    def show_loading(self, path: str) -> None:
        self.path = path
        self.file_label.setText(Path(path).name)
        self.file_label.setToolTip(path)
        self._say("Finding faces…")
        self.whole_button.hide()

    def show_photo(self, image: QImage, scale: float, boxes: list, chosen: int) -> None:
        self.view.set_photo(image, scale, boxes, chosen)

    def show_chip(self, chip: QImage | None) -> None:
        if chip is None:
            self.chip.clear()
        else:
            self.chip.setPixmap(QPixmap.fromImage(chip).scaled(
                CHIP_SIDE - 4, CHIP_SIDE - 4, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))

    def show_info(self, text: str) -> None:
        self._say(text)

    def show_error(self, text: str, offer_whole_image: bool = False, keep_photo: bool = False) -> None:
        """An error in words, in this pane; the photo stays only when ``keep_photo``."""
        if not keep_photo:
            self.view.set_photo(None)
            self.show_chip(None)
        self._say(text, error=True)
        self.whole_button.setVisible(offer_whole_image)

    def set_chosen(self, index: int) -> None:
        self.view.set_chosen(index)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setProperty("error", error)
        self.message.setStyleSheet("color: #c62828;" if error else "")
        self.message.setText(text)

    @property
    def error_text(self) -> str:
        return self.message.text() if self.message.property("error") else ""

    # -- opening ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.path).parent) if self.path else self.start_dir
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.files_dropped.emit([path])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if local_files(event.mimeData()):
            event.acceptProposedAction()
            self.view.set_highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if local_files(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802
        self.view.set_highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.view.set_highlight(False)
        files = local_files(event.mimeData())
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(files)
