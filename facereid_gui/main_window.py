"""The main window: one tab per page, the menus, and a status bar with the device and the worker's activity."""
from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, QSettings, QTimer
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


class CheckedSettings(QSettings):
    """The app's settings, read as data: :meth:`value` never hands back a value of another type than the
    default's (or than :attr:`TYPES` says for keys read without a default). A damaged or hand-edited
    entry (``page=abc``, ``geometry=garbage``, a list where a path belongs) gives the default instead,
    and its key is noted in :attr:`damaged`, passed to :attr:`on_damaged` and removed from the file."""

    #: Keys read without a default, and the type their value must have.
    TYPES: dict[str, type] = {"window/geometry": QByteArray, "albums/library": str}

    def __init__(self, path: str, fmt: QSettings.Format = QSettings.Format.IniFormat, parent=None) -> None:
        super().__init__(path, fmt, parent)
        self.damaged: list[str] = []
        self.on_damaged: Callable[[str], None] | None = None

    def value(self, key: str, defaultValue=None, type=None):  # noqa: A002, N803 (Qt's names)
        try:
            raw = super().value(key, defaultValue) if type is None else super().value(key, defaultValue, type)
        except Exception:  # a value Qt itself cannot convert
            return self._damage(key, defaultValue)
        expected = self.TYPES.get(key) if defaultValue is None else builtins_type(defaultValue)
        if expected is None or type is not None:
            return raw
        if raw is None:
            return self._damage(key, defaultValue) if self.contains(key) else defaultValue
        try:
            return _coerce(raw, expected)
        except (TypeError, ValueError, OverflowError):
            return self._damage(key, defaultValue)

    def _damage(self, key: str, default):
        """Note a damaged entry and remove it (the next start is clean); return the default."""
        if key not in self.damaged:
            self.damaged.append(key)
            self.remove(key)
            if self.on_damaged is not None:
                self.on_damaged(key)
        return default


def builtins_type(value) -> type:
    return list if isinstance(value, (list, tuple)) else type(value)


def _coerce(raw, expected: type):
    """``raw`` (as an INI file gives it: mostly strings) as ``expected``; TypeError/ValueError if it is not one."""
    if expected is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise ValueError(raw)
    if expected is int:
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise TypeError(raw)
        value = int(raw)
        if not -2**31 <= value < 2**31:  # what Qt's widgets take
            raise OverflowError(raw)
        return value
    if expected is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise TypeError(raw)
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
        return value
    if expected is str:
        if not isinstance(raw, str):
            raise TypeError(raw)
        return raw
    if expected is list:
        if isinstance(raw, str):
            return [raw]  # QSettings gives a one-item list back as its item
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            return raw
        raise TypeError(raw)
    if not isinstance(raw, expected):
        raise TypeError(raw)
    return raw


def open_settings() -> CheckedSettings:
    """The app's settings (an INI file next to FaceReID's library)."""
    return CheckedSettings(str(settings_file()), QSettings.Format.IniFormat)


def checked(settings: QSettings | None) -> CheckedSettings:
    """``settings`` (or the app's own) read through :class:`CheckedSettings`."""
    if settings is None:
        return open_settings()
    if isinstance(settings, CheckedSettings):
        return settings
    return CheckedSettings(settings.fileName(), settings.format())


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FaceReID")
        self.setWindowIcon(icon("facereid"))
        self.settings = checked(settings)
        self.settings.on_damaged = self._settings_damaged
        self.worker = EngineWorker(self)
        self.engine = None  # EngineInfo, once the worker has loaded the engine
        try:
            self._build()
        except BaseException:
            self.worker.shutdown()  # a running QThread destroyed with the window aborts the process
            raise

    def _build(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: list[Page] = []
        for spec in PAGES:
            page = page_class(spec)(self.worker, self.settings)
            page.engine_changed.connect(self._encoders_changed)
            self.pages.append(page)
            self.tabs.addTab(page, page.title)
        self.setCentralWidget(self.tabs)
        page = self.settings.value("window/page", 0)
        if not 0 <= page < self.tabs.count():
            page = self.settings._damage("window/page", 0)
        self.tabs.setCurrentIndex(page)
        self.tabs.currentChanged.connect(self._page_changed)

        self._build_status_bar()
        self._build_menus()
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            if geometry is not None:
                self.settings._damage("window/geometry", None)
            self.resize(1280, 820)
        self._settings_damaged()
        self.worker.activity.connect(self._show_activity)
        self.worker.job_progress.connect(self._show_progress)
        # Engine work starts once the window is on screen: importing the engine (torch) in the worker
        # while the window is being built would slow the window down.
        QTimer.singleShot(START_DELAY_MS, self._start_engine)

    # -- building -----------------------------------------------------------------------------
    def _settings_damaged(self, key: str | None = None) -> None:
        """Say in the status bar that settings could not be used and defaults replaced them."""
        if not hasattr(self, "device_label"):
            return  # the status bar is not built yet: said at the end of building
        damaged = self.settings.damaged
        if self.settings.status() != QSettings.Status.NoError:
            self.settings_note = (f"The settings file {self.settings.fileName()} could not be read: "
                                  "the default settings are used.")
        elif damaged:
            self.settings_note = (f"Damaged settings in {self.settings.fileName()} were replaced by their defaults: "
                                  f"{', '.join(damaged)}.")
        else:
            return
        self.statusBar().showMessage(self.settings_note)

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
        self.device_label.setToolTip(
            f"Where the models run. The engine uses {info.threads_note}: the window keeps a core so that it "
            "stays responsive while the engine works. Set OMP_NUM_THREADS before starting to choose.")
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
