"""The Albums page's scan options (encoder, detail, detector) and its words for a scan's pace."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from facereid_engine.defaults import DEFAULT_DETECTOR  # light: no torch

from .detector_choice import detector_combo
from .encoder_choice import fill_combo

#: facereid_engine.library.scanning.DETAIL's presets, in words.
DETAIL_WORDS = {
    "fast": ("Fast", "Looks for faces on a 1600-px copy of each photo: quickest, finds faces from about 160 px"),
    "normal": ("Normal", "Looks for faces on a 2048-px copy of each photo: finds faces from about 112 px"),
    "small": ("Small faces", "Looks for faces on a 4096-px copy of each photo: about 5x slower, finds faces "
                             "from about 64 px"),
}


class ScanOptions(QWidget):
    """Encoder, detail and detector of the next scan, remembered in ``settings``. ``changed`` is
    emitted when the user changes one."""

    changed = Signal()

    def __init__(self, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.encoder_box = QComboBox()
        self.encoder_box.setToolTip("The model that turns faces into vectors: the albums are grouped by it. "
                                    "Another one regroups the library at the next scan (known faces are "
                                    "embedded again; nothing is detected again).")
        remembered = str(settings.value("albums/encoder", ""))
        if remembered:
            self.encoder_box.addItem(remembered, remembered)
        self.detail_box = QComboBox()
        for name, (label, tip) in DETAIL_WORDS.items():
            self.detail_box.addItem(label, name)
            self.detail_box.setItemData(self.detail_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.detail_box.setCurrentIndex(max(0, self.detail_box.findData(str(settings.value("albums/detail", "normal")))))
        self.detail_box.setToolTip("How small a face the scan looks for (smaller is slower)")
        self.detector_box = detector_combo(str(settings.value("albums/detector", DEFAULT_DETECTOR)))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for words, box in (("Encoder", self.encoder_box), ("Detail", self.detail_box),
                           ("Detector", self.detector_box)):
            layout.addWidget(QLabel(words))
            layout.addWidget(box)
        layout.addStretch(1)
        for box in (self.encoder_box, self.detail_box, self.detector_box):
            box.currentIndexChanged.connect(self._changed)
        self.encoder_box.setEnabled(False)  # until the engine's cards arrive

    def set_cards(self, cards, library_encoder: str | None) -> None:
        """List the encoders (only usable ones can be chosen); the choice stays, else the library's."""
        current = self.encoder_box.currentData() or library_encoder or ""
        fill_combo(self.encoder_box, cards, current, selectable_unavailable=False)
        self.encoder_box.setEnabled(True)

    def follow_library(self, encoder: str) -> None:
        """Choose the library's encoder, unless the user chose one (the choice is then remembered)."""
        if not self.settings.value("albums/encoder", "") and self.encoder_box.isEnabled():
            self.encoder_box.blockSignals(True)
            self.encoder_box.setCurrentIndex(max(0, self.encoder_box.findData(encoder)))
            self.encoder_box.blockSignals(False)

    def set_encoder(self, name: str) -> None:
        self.encoder_box.setCurrentIndex(self.encoder_box.findData(name))

    @property
    def encoder(self) -> str | None:
        return self.encoder_box.currentData() if self.encoder_box.isEnabled() else None

    @property
    def detail(self) -> str:
        return self.detail_box.currentData()

    @property
    def detector(self) -> str:
        return self.detector_box.currentData()

    def _changed(self) -> None:
        if self.encoder_box.isEnabled():
            self.settings.setValue("albums/encoder", self.encoder_box.currentData())
        self.settings.setValue("albums/detail", self.detail)
        self.settings.setValue("albums/detector", self.detector)
        self.changed.emit()


def pace_words(done: int, total: int, seconds: float) -> str:
    """``"1.3 photos/s, about 2 min left"`` once a photo is done (seconds: since the first photo began)."""
    if done <= 0 or seconds <= 0:
        return ""
    rate = done / seconds
    left = (total - done) / rate
    if left < 60:
        when = f"{max(1, round(left))} s left"
    elif left < 3600:
        when = f"about {round(left / 60)} min left"
    else:
        when = f"about {left / 3600:.1f} h left"
    speed = f"{rate:.1f} photos/s" if rate >= 1 else f"{1 / rate:.1f} s per photo"
    return f"{speed}, {when}" if done < total else speed
