"""A grid of people (cover face, name, number of faces) and a grid of faces, with drag-and-drop.

Dragging a person onto another asks to merge them; dragging faces onto a person asks to move them.
The grids only emit signals; the page turns them into library corrections.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QItemSelectionModel, QMimeData, QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QListView, QListWidget, QListWidgetItem, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QWidget)

PEOPLE_MIME = "application/x-facereid-people"
FACES_MIME = "application/x-facereid-faces"
PERSON_ROLE = Qt.ItemDataRole.UserRole + 1   # person id (None for the unsorted group)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2    # number of faces
FACE_ROLE = Qt.ItemDataRole.UserRole + 3     # face id
KIND_ROLE = Qt.ItemDataRole.UserRole + 4     # "person" or "unsorted"
NAME_ROLE = Qt.ItemDataRole.UserRole + 5     # the person's own name ("" when unnamed)
RENAMED_ROLE = Qt.ItemDataRole.UserRole + 6  # the name last sent with ``renamed``

COVER = 96
FACE = 80


def _ids(mime: QMimeData, kind: str) -> list[int]:
    if not mime.hasFormat(kind):
        return []
    return [int(v) for v in json.loads(bytes(mime.data(kind)).decode("ascii"))]


def _mime(kind: str, ids: list[int]) -> QMimeData:
    mime = QMimeData()
    mime.setData(kind, QByteArray(json.dumps(ids).encode("ascii")))
    return mime


def placeholder_icon(side: int) -> QIcon:
    pixmap = QPixmap(side, side)
    pixmap.fill(QColor(200, 200, 200))
    return QIcon(pixmap)


def icon_from(image: QImage | None, side: int) -> QIcon:
    if image is None or image.isNull():
        return placeholder_icon(side)
    pixmap = QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                             Qt.TransformationMode.SmoothTransformation)
    return QIcon(pixmap.copy(QRect((pixmap.width() - side) // 2, (pixmap.height() - side) // 2, side, side)))



def _icon_grid(view: QListWidget, spacing: int, side: int) -> None:
    """Lay ``view`` out as a static grid of square icons, several selectable and draggable."""
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setSpacing(spacing)
    view.setIconSize(QSize(side, side))
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setDragEnabled(True)

class _PersonDelegate(QStyledItemDelegate):
    """Cover, then the name (editable in place), then "N faces" in grey."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 (Qt name)
        return QSize(COVER + 28, COVER + 46)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        rect = option.rect
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QIcon):
            icon.paint(painter, QRect(rect.x() + (rect.width() - COVER) // 2, rect.y() + 4, COVER, COVER))
        text_colour = option.palette.highlightedText().color() if option.state & QStyle.StateFlag.State_Selected \
            else option.palette.text().color()
        font = QFont(option.font)
        font.setBold(index.data(KIND_ROLE) == "unsorted" or bool(index.data(NAME_ROLE)))
        painter.setFont(font)
        painter.setPen(text_colour)
        name_rect = QRect(rect.x() + 2, rect.y() + COVER + 6, rect.width() - 4, 18)
        name = painter.fontMetrics().elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "",
                                                Qt.TextElideMode.ElideRight, name_rect.width())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter, name)
        count = index.data(COUNT_ROLE) or 0
        painter.setFont(option.font)
        painter.setPen(option.palette.placeholderText().color())
        painter.drawText(QRect(rect.x() + 2, rect.y() + COVER + 24, rect.width() - 4, 18),
                         Qt.AlignmentFlag.AlignHCenter, f"{count} face{'s' if count != 1 else ''}")
        painter.restore()

    def setEditorData(self, editor, index) -> None:  # noqa: N802
        editor.setText(index.data(NAME_ROLE) or "")
        editor.setPlaceholderText("Name this person")

    def setModelData(self, editor, model, index) -> None:  # noqa: N802
        name = editor.text().strip()
        if name != (index.data(NAME_ROLE) or ""):
            model.setData(index, name or index.data(Qt.ItemDataRole.DisplayRole), Qt.ItemDataRole.DisplayRole)
            model.setData(index, name, NAME_ROLE)


class PeopleGrid(QListWidget):
    """The people of the library. Signals: ``renamed(person_id, name)``, ``merge_requested(ids, into)``,
    ``faces_dropped(face_ids, person_id)``, ``opened(person_id or None)``."""

    renamed = Signal(int, str)
    merge_requested = Signal(list, int)
    faces_dropped = Signal(list, int)
    opened = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _icon_grid(self, spacing=6, side=COVER)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)  # setMovement(Static) turned the viewport's drops off
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setItemDelegate(_PersonDelegate(self))
        self.itemChanged.connect(self._item_changed)
        self.itemActivated.connect(lambda item: self.opened.emit(item.data(PERSON_ROLE)))
        self._filling = False

    # -- content --------------------------------------------------------------------------------
    def set_people(self, cards: list, unsorted_count: int, unsorted_cover: QImage | None) -> None:
        """``cards``: objects with ``person`` (a library ``Person``) and ``cover`` (``QImage`` or None)."""
        selected = set(self.selected_ids())
        current = self.currentItem().data(PERSON_ROLE) if self.currentItem() else None
        self._filling = True
        self.clear()
        for card in cards:
            person = card.person
            item = QListWidgetItem(icon_from(card.cover, COVER), person.display_name)
            item.setData(NAME_ROLE, person.name or "")
            item.setData(RENAMED_ROLE, person.name or "")
            item.setData(PERSON_ROLE, person.id)
            item.setData(COUNT_ROLE, person.face_count)
            item.setData(KIND_ROLE, "person")
            item.setToolTip(f"{person.display_name}: {person.face_count} faces in {person.photo_count} photos"
                            "\nDouble-click to see the faces; F2 to rename; drag onto another person to merge")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled
                          | Qt.ItemFlag.ItemIsDropEnabled)
            self.addItem(item)
            if person.id in selected:
                item.setSelected(True)
            if person.id == current:
                self.setCurrentItem(item, QItemSelectionModel.SelectionFlag.NoUpdate)
        if unsorted_count:
            item = QListWidgetItem(icon_from(unsorted_cover, COVER), "Unsorted")
            item.setData(PERSON_ROLE, None)
            item.setData(COUNT_ROLE, unsorted_count)
            item.setData(KIND_ROLE, "unsorted")
            item.setToolTip("Faces that fit nobody yet. Double-click to file them.")
            item.setFlags((item.flags() | Qt.ItemFlag.ItemIsDropEnabled) & ~Qt.ItemFlag.ItemIsEditable
                          & ~Qt.ItemFlag.ItemIsDragEnabled)
            self.addItem(item)
        self._filling = False

    def item_for(self, person_id: int | None) -> QListWidgetItem | None:
        for i in range(self.count()):
            item = self.item(i)
            if item.data(PERSON_ROLE) == person_id and (person_id is not None or item.data(KIND_ROLE) == "unsorted"):
                return item
        return None

    def names(self) -> dict[int, str]:
        """person id -> shown name."""
        return {self.item(i).data(PERSON_ROLE): self.item(i).data(Qt.ItemDataRole.DisplayRole)
                for i in range(self.count()) if self.item(i).data(KIND_ROLE) == "person"}

    def selected_ids(self) -> list[int]:
        return [item.data(PERSON_ROLE) for item in self.selectedItems() if item.data(KIND_ROLE) == "person"]

    def _item_changed(self, item: QListWidgetItem) -> None:
        """The name was edited in place (the delegate sets NAME_ROLE last)."""
        if self._filling or item.data(KIND_ROLE) != "person" or item.data(NAME_ROLE) is None:
            return
        name = item.data(NAME_ROLE).strip()
        if name != item.data(RENAMED_ROLE):
            item.setData(RENAMED_ROLE, name)
            self.renamed.emit(int(item.data(PERSON_ROLE)), name)

    # -- drag and drop --------------------------------------------------------------------------
    def mimeData(self, items) -> QMimeData:  # noqa: N802 (Qt name)
        ids = [item.data(PERSON_ROLE) for item in items if item.data(KIND_ROLE) == "person"]
        return _mime(PEOPLE_MIME, ids)

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [PEOPLE_MIME, FACES_MIME]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def _target(self, pos: QPoint) -> QListWidgetItem | None:
        return self.itemAt(pos)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasFormat(PEOPLE_MIME) or mime.hasFormat(FACES_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        target = self._target(event.position().toPoint())
        mime = event.mimeData()
        ok = target is not None and (
            (mime.hasFormat(FACES_MIME) and target.data(KIND_ROLE) == "person")
            or (mime.hasFormat(PEOPLE_MIME) and target.data(KIND_ROLE) == "person"
                and target.data(PERSON_ROLE) not in _ids(mime, PEOPLE_MIME)))
        if ok:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        target = self._target(event.position().toPoint())
        if target is None or target.data(KIND_ROLE) != "person":
            event.ignore()
            return
        into = int(target.data(PERSON_ROLE))
        mime = event.mimeData()
        if mime.hasFormat(FACES_MIME):
            self.faces_dropped.emit(_ids(mime, FACES_MIME), into)
        elif mime.hasFormat(PEOPLE_MIME):
            people = [p for p in _ids(mime, PEOPLE_MIME) if p != into]
            if not people:
                event.ignore()
                return
            self.merge_requested.emit([into, *people], into)
        event.setDropAction(Qt.DropAction.CopyAction)  # the grid itself is rebuilt from the library
        event.accept()


class FacesGrid(QListWidget):
    """The faces of one person (or the unsorted ones); several may be selected and dragged."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _icon_grid(self, spacing=4, side=FACE)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def set_faces(self, faces: list) -> None:
        """``faces``: objects with ``info`` (a library ``FaceInfo``) and ``thumbnail`` (``QImage`` or None)."""
        self.clear()
        for face in faces:
            info = face.info
            item = QListWidgetItem(icon_from(face.thumbnail, FACE), "")
            item.setData(FACE_ROLE, info.id)
            item.setToolTip(f"{info.path}\nface {info.box}, {info.size} px"
                            + (" (confirmed)" if info.confirmed else "")
                            + "\nDouble-click to see the photo; right-click for corrections")
            item.setSizeHint(QSize(FACE + 12, FACE + 12))
            self.addItem(item)

    def selected_ids(self) -> list[int]:
        return [int(item.data(FACE_ROLE)) for item in self.selectedItems()]

    def mimeData(self, items) -> QMimeData:  # noqa: N802 (Qt name)
        return _mime(FACES_MIME, [int(item.data(FACE_ROLE)) for item in items])

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [FACES_MIME]

