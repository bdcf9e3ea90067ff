"""Pairs of people who may be one person: merge them, or say they are not the same (remembered)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

PAIR_ROLE = Qt.ItemDataRole.UserRole + 10


class SuggestionsBox(QGroupBox):
    """Signals: ``merge(person_a, person_b)``, ``dismiss(person_a, person_b)``."""

    merge = Signal(int, int)
    dismiss = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Maybe the same person", parent)
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.merge_button = QPushButton("Merge")
        self.merge_button.clicked.connect(lambda: self._emit(self.merge))
        self.dismiss_button = QPushButton("Not the same")
        self.dismiss_button.clicked.connect(lambda: self._emit(self.dismiss))
        buttons = QHBoxLayout()
        buttons.addWidget(self.merge_button)
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self._selection_changed()

    def set_suggestions(self, suggestions: list) -> None:
        self.list.clear()
        for s in suggestions:
            item = QListWidgetItem(f"{s.name_a} and {s.name_b} (distance {s.distance:.2f})")
            item.setData(PAIR_ROLE, (s.person_a, s.person_b))
            self.list.addItem(item)
        if suggestions:
            self.list.setCurrentRow(0)
        self.setVisible(bool(suggestions))
        self._selection_changed()

    def pairs(self) -> list[tuple[int, int]]:
        return [tuple(self.list.item(i).data(PAIR_ROLE)) for i in range(self.list.count())]

    def _selection_changed(self) -> None:
        some = self.list.currentItem() is not None
        self.merge_button.setEnabled(some)
        self.dismiss_button.setEnabled(some)

    def _emit(self, signal) -> None:
        item = self.list.currentItem()
        if item is not None:
            a, b = item.data(PAIR_ROLE)
            signal.emit(int(a), int(b))
