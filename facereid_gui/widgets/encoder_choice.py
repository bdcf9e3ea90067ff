"""Encoder lists filled from the encoders' cards: one look for an encoder that cannot be used here.

An unusable encoder (its weights are missing, say) is listed once, as ``"<name> (unavailable)"``, with
its card's reason as the tooltip; the item's data is always the plain name.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QListWidget, QListWidgetItem

UNAVAILABLE = " (unavailable)"
NAME_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Remembered:
    """A stand-in card for a name remembered from the last session, listed until the engine's cards arrive."""

    name: str
    description: str = "(the engine is starting)"
    unavailable: str = ""


def item_text(card) -> str:
    """What a list shows for ``card``: its name, marked when it cannot be used here."""
    return f"{card.name}{UNAVAILABLE}" if card.unavailable else card.name


def item_tooltip(card) -> str:
    """The card's reason when it cannot be used here, else its description."""
    return card.unavailable or card.description


def fill_combo(box: QComboBox, cards, current: str, selectable_unavailable: bool = True) -> None:
    """Fill ``box`` with one item per card (data: the name) and choose ``current`` again if listed.

    Unavailable encoders are marked; with ``selectable_unavailable`` false they are also disabled, and
    the choice falls on the first usable encoder when ``current`` is not usable. Signals are blocked.
    """
    box.blockSignals(True)
    box.clear()
    for card in cards:
        box.addItem(item_text(card), card.name)
        index = box.count() - 1
        box.setItemData(index, item_tooltip(card), Qt.ItemDataRole.ToolTipRole)
        if card.unavailable and not selectable_unavailable:
            box.model().item(index).setEnabled(False)
    usable = [c.name for c in cards if selectable_unavailable or not c.unavailable]
    choice = current if current in usable else (usable[0] if usable else current)
    box.setCurrentIndex(max(0, box.findData(choice)))
    box.blockSignals(False)


def fill_checklist(widget: QListWidget, cards, ticked: set[str]) -> None:
    """Fill ``widget`` with a checkable item per card; an unavailable encoder's item can be neither
    ticked nor chosen (its tooltip says why)."""
    widget.clear()
    for card in cards:
        item = QListWidgetItem(item_text(card))
        item.setData(NAME_ROLE, card.name)
        item.setToolTip(item_tooltip(card))
        if card.unavailable:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled & ~Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)  # a greyed box, aligned with the others
        else:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if card.name in ticked else Qt.CheckState.Unchecked)
        widget.addItem(item)


def checklist_names(widget: QListWidget, checked_only: bool = False) -> list[str]:
    """The names in ``widget``: every one, or only the ticked usable ones."""
    items = [widget.item(i) for i in range(widget.count())]
    if checked_only:
        items = [i for i in items if i.flags() & Qt.ItemFlag.ItemIsUserCheckable
                 and i.checkState() == Qt.CheckState.Checked]
    return [i.data(NAME_ROLE) for i in items]


def set_checklist(widget: QListWidget, names) -> None:
    """Tick the usable encoders in ``names`` and untick the others."""
    for i in range(widget.count()):
        item = widget.item(i)
        if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            on = item.data(NAME_ROLE) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
