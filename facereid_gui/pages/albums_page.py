"""Albums: scan folders of photos, see one album per person, correct it, export it."""
from __future__ import annotations

import itertools
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter, QVBoxLayout,
                               QWidget)

from ..jobs import albums as jobs
from ..widgets.drops import local_folders
from ..widgets.people_grid import PERSON_ROLE, PeopleGrid
from ..widgets.person_panel import PersonPanel
from ..widgets.scan_options import ScanOptions, pace_words
from ..widgets.suggestions import SuggestionsBox
from .albums_photos import PhotoActions, report_words
from .base import Page

_edits = itertools.count(1)


def counts_text(counts: dict, folders: list[str]) -> str:
    parts = [f"{counts.get('photos', 0)} photos", f"{counts.get('faces', 0)} faces",
             f"{counts.get('people', 0)} people", f"{counts.get('unsorted', 0)} unsorted"]
    if counts.get("errors"):
        parts.append(f"{counts['errors']} unreadable")
    if counts.get("missing"):
        parts.append(f"{counts['missing']} missing")
    where = f" in {', '.join(Path(f).name for f in folders)}" if folders else ""
    return " · ".join(parts) + where


class AlbumsPage(PhotoActions, Page):
    title = "Albums"
    open_text = "Add a Photo Folder…"

    def __init__(self, worker, settings, parent: QWidget | None = None) -> None:
        super().__init__(worker, settings, parent)
        path = settings.value("albums/library")
        self.holder = jobs.LibraryHolder(path or None)
        self.worker.at_exit(self.holder.close)
        self.snapshot: jobs.AlbumsSnapshot | None = None
        self.shown_person: object = ...  # person id shown on the right (None: unsorted; ...: nobody)
        self.scanning = False
        self.scan_started: float | None = None  # when the first photo of the scan began
        self.setAcceptDrops(True)
        self._build()

    def start(self) -> None:
        self.reload()  # the albums of last time, as soon as the window is up

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.add_button = QPushButton("Add Folder…")
        self.add_button.setToolTip("Choose a folder of photos to scan (or drop a folder on this page)")
        self.add_button.clicked.connect(self.open)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Look for new, changed and removed photos in the folders scanned before")
        self.rescan_button.clicked.connect(self.rescan)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write one folder per person (links to the photos) and a manifest")
        self.export_button.clicked.connect(self.choose_export_folder)
        self.options = ScanOptions(self.settings)
        self.options.changed.connect(self._options_changed)
        self.folder_button = QPushButton("Open Album Folder")
        self.folder_button.setToolTip("Open the album shown in the file manager: its folder in the last "
                                      "export, else the folder of its first photo")
        self.folder_button.clicked.connect(self.open_album_folder)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo)
        self.progress = QProgressBar()
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_scan)
        bar = QHBoxLayout()
        for w in (self.add_button, self.rescan_button, self.export_button, self.undo_button):
            bar.addWidget(w)
        bar.addStretch(1)
        self.progress.setMinimumWidth(320)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        options = QHBoxLayout()
        options.addWidget(self.options, 1)
        options.addWidget(self.folder_button)
        self.counts = QLabel("Opening the library…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.grid = PeopleGrid()
        self.grid.renamed.connect(self.rename)
        self.grid.merge_requested.connect(self.merge)
        self.grid.faces_dropped.connect(self.move_faces)
        self.grid.opened.connect(self.open_person)
        self.grid.currentItemChanged.connect(
            lambda item, _old: item is not None and self.open_person(item.data(PERSON_ROLE)))
        self.merge_button = QPushButton("Merge selected")
        self.merge_button.setToolTip("Select several people (Ctrl+click), then merge them into one")
        self.merge_button.clicked.connect(lambda: self.merge(self.grid.selected_ids()))
        self.rename_button = QPushButton("Rename")
        self.rename_button.clicked.connect(self._rename_current)
        grid_buttons = QHBoxLayout()
        grid_buttons.addWidget(self.rename_button)
        grid_buttons.addWidget(self.merge_button)
        grid_buttons.addStretch(1)
        self.grid.itemSelectionChanged.connect(self._grid_selection_changed)
        self.suggestions = SuggestionsBox()
        self.suggestions.merge.connect(lambda a, b: self.merge([a, b]))
        self.suggestions.dismiss.connect(
            lambda a, b: self._edit("dismiss_suggestion", a, b, done=f"Kept {self._name(a)} and "
                                    f"{self._name(b)} apart; this suggestion will not come back."))
        self.suggestions.hide()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.grid, 1)
        left_layout.addLayout(grid_buttons)
        left_layout.addWidget(self.suggestions)

        self.panel = PersonPanel()
        self.panel.move_requested.connect(self.move_faces)
        self.panel.split_requested.connect(lambda ids: self._edit("split", ids, done="Made a new person."))
        self.panel.not_this_person.connect(self.not_this_person)
        self.panel.not_a_face.connect(lambda ids: self._edit("not_a_face", ids,
                                                            done=f"Marked {len(ids)} as not a face."))
        self.panel.photo_requested.connect(self.show_photo)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(options)
        layout.addWidget(self.counts)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._grid_selection_changed()
        self._set_busy(False)

    # -- reading the library ---------------------------------------------------------------------
    def folders(self) -> list[str]:
        value = self.settings.value("albums/folders", [])
        return [value] if isinstance(value, str) else list(value or [])

    def engine_ready(self, info) -> None:
        library = self.snapshot.encoder if self.snapshot is not None else None
        self.options.set_cards(info.cards, library)
        self._options_changed()

    def _options_changed(self) -> None:
        """Say when the encoder chosen is not the one the albums are grouped by: the next scan regroups."""
        grouped_by = self.snapshot.encoder if self.snapshot is not None else None
        chosen = self.options.encoder
        regroup = bool(grouped_by and chosen and chosen != grouped_by and self.snapshot.counts.get("faces"))
        self.rescan_button.setText(f"Regroup with {chosen}" if regroup else "Rescan")
        self.rescan_button.setToolTip(
            f"The albums are grouped by {grouped_by}: embed the known faces with {chosen} (nothing is detected "
            "again) and regroup them, your names and corrections kept" if regroup else
            "Look for new, changed and removed photos in the folders scanned before")

    def reload(self) -> None:
        holder = self.holder
        self.worker.submit("albums-load", lambda: jobs.snapshot(holder.get()), label="Reading the albums",
                           on_result=self._show_snapshot, on_error=self._failed, interleave=True)

    def _show_snapshot(self, snap: jobs.AlbumsSnapshot) -> None:
        self.snapshot = snap
        self.options.follow_library(snap.encoder)
        self._options_changed()
        self.grid.set_people(snap.people, snap.unsorted_count, snap.unsorted_cover)
        self.panel.set_people(self.grid.names())
        self.suggestions.set_suggestions(snap.suggestions)
        if not snap.people and not snap.unsorted_count and not snap.counts.get("photos"):
            self.counts.setText("No photos yet: add a folder of photos (or drop one here) to make albums.")
        else:
            self.counts.setText(counts_text(snap.counts, self.folders()))
        self.undo_button.setEnabled(bool(snap.last_correction) and not self.scanning)
        self.undo_button.setToolTip(f"Undo: {snap.last_correction}" if snap.last_correction else "Nothing to undo")
        if self.shown_person is not ... and (self.shown_person is None or self.shown_person in self.grid.names()):
            self.open_person(self.shown_person)
        elif snap.people:  # nobody shown yet (or the one shown is gone): show the first album
            self.grid.setCurrentItem(self.grid.item(0))
        else:
            self.panel.clear()
            self.shown_person = ...

    def open_person(self, person_id: int | None) -> None:
        """Show the faces of ``person_id`` (None: the unsorted faces) on the right."""
        self.shown_person = person_id
        holder = self.holder
        title = "Unsorted" if person_id is None else self._name(person_id)
        self.worker.submit("albums-faces", lambda: jobs.person_faces(holder.get(), person_id),
                           label="Reading faces", interleave=True, on_error=self._failed,
                           on_result=lambda faces: self.panel.show_faces(person_id, title, faces))

    def _name(self, person_id: int) -> str:
        return self.grid.names().get(person_id, f"Person {person_id}")

    # -- corrections -----------------------------------------------------------------------------
    def _edit(self, action: str, *args, done: str = "") -> None:
        """Apply one library correction in the worker; each persists at once and can be undone."""
        holder = self.holder
        self.worker.submit(f"albums-edit-{next(_edits)}", lambda: jobs.correct(holder.get(), action, *args),
                           label="Saving the correction", interleave=True,
                           on_result=lambda snap: (self._say(done), self._show_snapshot(snap)),
                           on_error=self._failed)

    def rename(self, person_id: int, name: str) -> None:
        self._edit("rename", person_id, name or None,
                   done=f"Renamed to {name}." if name else "Removed the name.")

    def _rename_current(self) -> None:
        item = self.grid.currentItem()
        if item is not None and item.data(PERSON_ROLE) is not None:
            self.grid.editItem(item)

    def merge(self, person_ids: list[int], into: int | None = None) -> None:
        people = list(dict.fromkeys(person_ids))
        if len(people) < 2:
            self._say("Select two or more people to merge (Ctrl+click), or drag one onto another.")
            return
        if into is None:  # keep the named person, else the biggest album
            known = {c.person.id: c.person for c in (self.snapshot.people if self.snapshot else [])}
            into = max(people, key=lambda p: (bool(known[p].name), known[p].face_count, -p) if p in known
                       else (False, 0, -p))
        names = ", ".join(self._name(p) for p in people if p != into)
        self._edit("merge", people, into, done=f"Merged {names} into {self._name(into)}.")

    def move_faces(self, face_ids: list[int], person_id: int) -> None:
        self._edit("move_faces", face_ids, person_id,
                   done=f"Moved {len(face_ids)} face{'s' if len(face_ids) != 1 else ''} to {self._name(person_id)}.")

    def not_this_person(self, face_ids: list[int]) -> None:
        person = self.panel.person_id
        if person is None:
            return
        self._edit("not_this_person", face_ids, person,
                   done=f"Took {len(face_ids)} face{'s' if len(face_ids) != 1 else ''} out of "
                        f"{self._name(person)}; they will not be put back there.")

    def undo(self) -> None:
        if self.scanning or self.snapshot is None or not self.snapshot.last_correction:
            return
        holder = self.holder

        def done(value) -> None:
            undone, snap = value
            self._say(f"Undone: {undone}." if undone else "Nothing to undo.")
            self._show_snapshot(snap)

        self.worker.submit(f"albums-edit-{next(_edits)}", lambda: jobs.undo(holder.get()), label="Undoing",
                           interleave=True, on_result=done, on_error=self._failed)

    def _grid_selection_changed(self) -> None:
        self.merge_button.setEnabled(len(self.grid.selected_ids()) >= 2)
        current = self.grid.currentItem()
        self.rename_button.setEnabled(current is not None and current.data(PERSON_ROLE) is not None)

    # -- scanning ------------------------------------------------------------------------------
    def open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of photos",
                                                  (self.folders() or [str(Path.home())])[-1])
        if folder:
            self.scan_folder(folder)

    def scan_folder(self, folder: str) -> None:
        """Scan ``folder`` (and remember it for Rescan)."""
        folder = str(Path(folder).resolve())
        folders = [f for f in self.folders() if f != folder] + [folder]
        self.settings.setValue("albums/folders", folders)
        self._scan([folder])

    def rescan(self) -> None:
        folders = [f for f in self.folders() if Path(f).is_dir()]
        if not folders:
            self._say("No folder to rescan yet: add one first.")
            return
        self._scan(folders)

    def _scan(self, folders: list[str]) -> None:
        holder = self.holder
        choice = jobs.ScanChoice(self.options.encoder, self.options.detail, self.options.detector)
        self.scan_started = None

        def work():
            reports, snap = [], None
            for folder in folders:
                report, snap = yield from jobs.scan(holder.get(), folder, choice)
                reports.append(report)
            return reports, snap

        self._set_busy(True)
        self._say(f"Scanning {', '.join(Path(f).name for f in folders)}…")
        self.worker.submit("albums-scan", work, label="Scanning photos", on_result=self._scanned,
                           on_progress=self._scan_progress, on_error=self._scan_failed,
                           on_cancelled=self._scan_cancelled)

    def cancel_scan(self) -> None:
        self.worker.cancel("albums-scan")

    def _set_busy(self, busy: bool) -> None:
        self.scanning = busy
        for button in (self.add_button, self.rescan_button, self.export_button, self.options):
            button.setEnabled(not busy)
        self.undo_button.setEnabled(not busy and bool(self.snapshot and self.snapshot.last_correction))
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    def _scan_progress(self, event) -> None:
        if event.info.get("snapshot") is not None:  # the faces found so far, placed: people appear and grow
            self._show_snapshot(event.info["snapshot"])
        pace = ""
        if event.total:
            if self.scan_started is None or event.done == 0:
                self.scan_started = time.monotonic()
            pace = pace_words(event.done, event.total, time.monotonic() - self.scan_started)
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.progress.setFormat("%v / %m" + (f" · {pace}" if pace else ""))
        faces = event.info.get("faces")
        words = Path(event.message).name if event.total and event.message else event.message or ""
        self.pace = pace
        self._say(f"Scanning: {event.done} of {event.total} photos"
                  + (f", {faces} faces so far" if faces is not None else "") + (f" ({pace})" if pace else "")
                  + (f" — {words}" if words else ""))

    def _scanned(self, value) -> None:
        reports, snap = value
        self._set_busy(False)
        self._say(" ".join(report_words(r) for r in reports) or "Scan finished.")
        self._show_snapshot(snap)

    def _scan_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._failed(exc)
        self.reload()

    def _scan_cancelled(self) -> None:
        self._set_busy(False)
        self._say("Scan cancelled. The photos done so far are kept; Rescan carries on from there.")
        self.reload()

    # -- drops of folders ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if local_folders(event.mimeData()) and not self.scanning:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        folders = local_folders(event.mimeData())
        if not folders or self.scanning:
            event.ignore()
            return
        event.acceptProposedAction()
        self.scan_folder(folders[0])

    # -- words ---------------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self._say(f"{exc}" if str(exc) else type(exc).__name__, error=True)
