"""Helpers of the GUI tests: real drops of files, waiting for the worker."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication


def drop_paths(widget, paths) -> QDropEvent:
    """Drag ``paths`` (as a file manager does: file URLs) onto ``widget`` and drop them there."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(p).resolve())) for p in paths])
    centre = widget.rect().center()
    enter = QDragEnterEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return event


def wait_idle(qtbot, window, timeout: int = 60_000) -> None:
    """Wait until the worker has no job and no debounce timer is pending."""
    qtbot.waitUntil(lambda: not window.worker.is_busy(), timeout=timeout)
    qtbot.wait(150)
    qtbot.waitUntil(lambda: not window.worker.is_busy(), timeout=timeout)


def labels_saying(widget, words: str) -> list:
    """The visible labels under ``widget`` whose text contains ``words`` (to check a message is said once)."""
    from PySide6.QtWidgets import QLabel

    return [label for label in widget.findChildren(QLabel) if label.isVisible() and words in label.text()]
