"""The face detector choice (Compare, Albums): dlib's MMOD or OpenCV Zoo's YuNet, with what each is."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

#: name -> (label, tooltip); names are the engine's (``facereid_engine.defaults.DETECTORS``).
DETECTORS = {
    "mmod": ("MMOD (dlib)", "dlib's CNN face detector (MMOD), exact to dlib"),
    "yunet": ("YuNet", "OpenCV Zoo's YuNet: faster, finds profiles, gives the five keypoints SFace is aligned on"),
}


def detector_combo(current: str) -> QComboBox:
    """A combo box of the detectors (item data: the engine's name), ``current`` chosen."""
    box = QComboBox()
    box.setToolTip("The model that finds the faces in a photo")
    for name, (label, tip) in DETECTORS.items():
        box.addItem(label, name)
        box.setItemData(box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box
