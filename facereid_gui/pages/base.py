"""What every page of the main window offers the window (menus, start-up, shutdown)."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QWidget

from ..worker import EngineWorker


class Page(QWidget):
    """A page of the main window. Subclasses set ``title`` and override the hooks they need."""

    title: str = ""
    #: Words of File > Open on this page.
    open_text: str = "Open…"
    #: Emitted with a new EngineInfo when this page changed what the engine offers (the Train page
    #: saved a model): the window passes it to every page's :meth:`encoders_changed`.
    engine_changed = Signal(object)

    def __init__(self, worker: EngineWorker, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.settings = settings

    def start(self) -> None:
        """The window has shown: queue the page's first work (for example reading its last state)."""

    def open(self) -> None:
        """File > Open while this page is shown."""

    def engine_ready(self, info) -> None:
        """The worker has loaded the engine; ``info`` is a :class:`~facereid_gui.jobs.startup.EngineInfo`."""

    def encoders_changed(self, info) -> None:
        """The list of encoders changed (a model was saved): by default, the same as :meth:`engine_ready`."""
        self.engine_ready(info)

    def shutdown(self) -> None:
        """The window is closing: save what must be kept (the worker is stopped by the window)."""
