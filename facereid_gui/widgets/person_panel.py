"""The right side of the Albums page: one person's faces and the corrections that apply to them."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from .people_grid import FACE_ROLE, FacesGrid


class PersonPanel(QWidget):
    """Signals carry the selected face ids: ``move_requested(ids, person_id)``, ``split_requested(ids)``,
    ``not_this_person(ids)``, ``not_a_face(ids)``, ``photo_requested(face_id)``."""

    move_requested = Signal(list, int)
    split_requested = Signal(list)
    not_this_person = Signal(list)
    not_a_face = Signal(list)
    photo_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.person_id: int | None = None
        self.is_unsorted = False
        self._people: dict[int, str] = {}
        self.header = QLabel("Choose a person on the left to see their faces.")
        font = self.header.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.header.setFont(font)
        self.hint = QLabel("Select faces, then use the buttons, right-click, or drag them onto a person.")
        self.hint.setWordWrap(True)
        self.faces = FacesGrid()
        self.faces.customContextMenuRequested.connect(self._context_menu)
        self.faces.itemDoubleClicked.connect(lambda item: self.photo_requested.emit(int(item.data(FACE_ROLE))))
        self.faces.itemSelectionChanged.connect(self._selection_changed)
        self.move_button = QPushButton("Move to…")
        self.move_button.setMenu(QMenu(self.move_button))
        self.move_button.menu().aboutToShow.connect(lambda: self._fill_move_menu(self.move_button.menu()))
        self.split_button = QPushButton("New person")
        self.split_button.setToolTip("Make a new person of the selected faces")
        self.split_button.clicked.connect(lambda: self.split_requested.emit(self.faces.selected_ids()))
        self.not_person_button = QPushButton("Not this person")
        self.not_person_button.clicked.connect(lambda: self.not_this_person.emit(self.faces.selected_ids()))
        self.not_face_button = QPushButton("Not a face")
        self.not_face_button.clicked.connect(lambda: self.not_a_face.emit(self.faces.selected_ids()))
        buttons = QHBoxLayout()
        for button in (self.move_button, self.split_button, self.not_person_button, self.not_face_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.hint)
        layout.addWidget(self.faces, 1)
        layout.addLayout(buttons)
        self._selection_changed()

    def set_people(self, names: dict[int, str]) -> None:
        """The people faces can be moved to (id -> shown name)."""
        self._people = dict(names)

    def show_faces(self, person_id: int | None, title: str, faces: list) -> None:
        self.person_id = person_id
        self.is_unsorted = person_id is None
        self.header.setText(f"{title} — {len(faces)} face{'s' if len(faces) != 1 else ''}")
        self.faces.set_faces(faces)
        self._selection_changed()

    def clear(self, text: str = "Choose a person on the left to see their faces.") -> None:
        self.person_id = None
        self.is_unsorted = False
        self.header.setText(text)
        self.faces.clear()
        self._selection_changed()

    def _selection_changed(self) -> None:
        some = bool(self.faces.selectedItems())
        for button in (self.move_button, self.split_button, self.not_face_button):
            button.setEnabled(some)
        self.not_person_button.setEnabled(some and not self.is_unsorted)

    def _fill_move_menu(self, menu: QMenu) -> None:
        menu.clear()
        ids = self.faces.selected_ids()
        for person_id, name in sorted(self._people.items(), key=lambda kv: kv[1].casefold()):
            if person_id == self.person_id:
                continue
            action = QAction(name, menu)
            action.triggered.connect(lambda _=False, p=person_id: self.move_requested.emit(ids, p))
            menu.addAction(action)
        if menu.isEmpty():
            menu.addAction("No other person yet").setEnabled(False)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.faces.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.faces.clearSelection()
            item.setSelected(True)
        ids = self.faces.selected_ids()
        menu = QMenu(self)
        self._fill_move_menu(menu.addMenu("Move to"))
        menu.addAction("New person from these", lambda: self.split_requested.emit(ids))
        if not self.is_unsorted:
            menu.addAction("Not this person", lambda: self.not_this_person.emit(ids))
        menu.addAction("Not a face", lambda: self.not_a_face.emit(ids))
        menu.addSeparator()
        menu.addAction("Show the photo", lambda: self.photo_requested.emit(ids[0]))
        menu.exec(self.faces.viewport().mapToGlobal(pos))
