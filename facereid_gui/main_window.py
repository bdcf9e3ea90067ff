"""The main window: one tab per page, the menus, and a status bar with the device and the worker's activity."""
from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QTabWidget, QWidget

from facereid_engine.paths import facereid_home  # light: no torch

from .dialogs.about import AboutDialog
from .jobs.startup import engine_info, load_default_models
from .pages import PAGES
from .pages.base import Page
from .resources import icon
from .worker import EngineWorker

START_DELAY_MS = 100


def page_class(spec: str) -> type[Page]:
    """The page class named by a ``"module:Class"`` entry of :data:`~facereid_gui.pages.PAGES`."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(f"{__package__}.pages.{module}"), name)


def settings_file() -> Path:
    """``facereid-gui.ini`` in FaceReID's data directory (``$FACEREID_HOME``, else the user data dir)."""
    return facereid_home() / "facereid-gui.ini"


def open_settings() -> QSettings:
    """The app's settings (an INI file next to FaceReID's library)."""
    return QSettings(str(settings_file()), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FaceReID")
        self.setWindowIcon(icon("facereid"))
        self.settings = settings or open_settings()
        self.worker = EngineWorker(self)
        self.engine = None  # EngineInfo, once the worker has loaded the engine

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: list[Page] = []
        for spec in PAGES:
            page = page_class(spec)(self.worker, self.settings)
            page.engine_changed.connect(self._encoders_changed)
            self.pages.append(page)
            self.tabs.addTab(page, page.title)
        self.setCentralWidget(self.tabs)
        self.tabs.setCurrentIndex(int(self.settings.value("window/page", 0)))
        self.tabs.currentChanged.connect(self._page_changed)

        self._build_status_bar()
        self._build_menus()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        self.worker.activity.connect(self._show_activity)
        self.worker.job_progress.connect(self._show_progress)
        # Engine work starts once the window is on screen: importing the engine (torch) in the worker
        # while the window is being built would slow the window down.
        QTimer.singleShot(START_DELAY_MS, self._start_engine)

    # -- building -----------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.activity_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.device_label = QLabel("Device: starting…")
        self.device_label.setToolTip("Where the models run")
        bar.addWidget(self.activity_label, 1)
        bar.addWidget(self.progress)
        bar.addPermanentWidget(self.device_label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=lambda: self.current_page().open())
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit,
                                    triggered=self.close, menuRole=QAction.MenuRole.QuitRole))
        view_menu = self.menuBar().addMenu("&View")
        for index, page in enumerate(self.pages):
            action = QAction(page.title, self, shortcut=QKeySequence(f"Ctrl+{index + 1}"),
                             triggered=lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&About FaceReID", self, shortcut=QKeySequence.StandardKey.HelpContents,
                                    triggered=self.show_about, menuRole=QAction.MenuRole.AboutRole))
        self._page_changed(self.tabs.currentIndex())

    # -- pages --------------------------------------------------------------------------------
    def current_page(self) -> Page:
        return self.pages[self.tabs.currentIndex()]

    def page(self, title: str) -> Page:
        return next(p for p in self.pages if p.title == title)

    def _page_changed(self, index: int) -> None:
        self.open_action.setText(f"&{self.pages[index].open_text}")
        self.settings.setValue("window/page", index)

    # -- the engine ---------------------------------------------------------------------------
    def _start_engine(self) -> None:
        self.worker.submit("startup", engine_info, label="Starting the engine",
                           on_result=self._engine_ready, on_error=self._engine_failed)
        for page in self.pages:
            page.start()
        self.worker.submit("load-models", load_default_models, label="Loading the face models",
                           on_error=self._engine_failed)

    def _engine_ready(self, info) -> None:
        self.engine = info
        self.device_label.setText(f"Device: {info.device}")
        for page in self.pages:
            page.engine_ready(info)

    def _encoders_changed(self, info) -> None:
        """A page changed the encoders on offer (a model was saved): every page, and About, learn of it."""
        self.engine = info
        for page in self.pages:
            page.encoders_changed(info)

    def _engine_failed(self, exc: BaseException) -> None:
        self.statusBar().showMessage(f"The engine could not start: {exc}")

    def _show_activity(self, text: str) -> None:
        self.activity_label.setText(text)
        if not text:
            self.progress.hide()

    def _show_progress(self, label: str, event) -> None:
        total = getattr(event, "total", 0)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(event.done, total))
            self.progress.setFormat("%v / %m")
            self.progress.show()
        message = getattr(event, "message", "")
        self.activity_label.setText(f"{label}: {message}" if message else label)

    def show_about(self) -> None:
        AboutDialog(self.engine, self).exec()

    # -- closing ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        """Stop the worker cleanly (the job in progress stops at its next step), then close."""
        for page in self.pages:
            page.shutdown()
        self.hide()  # gone at once; a job that cannot stop mid-way (loading a model) ends in the background
        self.worker.shutdown()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        event.accept()
