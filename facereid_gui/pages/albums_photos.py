"""The Albums page's photos and folders: a photo with its faces named, an album in the file manager,
the export."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..dialogs.photo_dialog import PhotoDialog
from ..jobs import albums as jobs


class PhotoActions:
    """Mixed into :class:`~.albums_page.AlbumsPage` (it provides worker, holder, panel, grid, _say, _failed)."""

    photo_dialog: PhotoDialog | None = None
    last_export = None

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the albums to a folder")
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str) -> None:
        holder = self.holder
        self._say(f"Exporting to {folder}…")
        self.worker.submit("albums-export", lambda: jobs.export(holder.get(), folder), label="Exporting",
                           on_result=partial(self._exported, folder), on_error=self._failed,
                           on_progress=lambda e: self._say(f"Exporting: {e.done} of {e.total} photos"))

    def _exported(self, folder: str, report) -> None:
        self.last_export = report
        self.settings.setValue("albums/export", folder)
        text = export_words(report, folder)
        self._say(text)
        box = QMessageBox(QMessageBox.Icon.Information, "Export finished", text, QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.show()
        self.export_box = box

    def show_photo(self, face_id: int) -> None:
        """The photo of ``face_id``, larger, with every face of it boxed and named (this one highlighted)."""
        faces = {int(self.panel.faces.item(i).data(Qt.ItemDataRole.UserRole + 3)): i
                 for i in range(self.panel.faces.count())}
        if face_id not in faces:
            return
        holder = self.holder
        names = self.grid.names()

        def shown(value) -> None:
            info, in_photo, image, scale = value
            boxes = [box for box, _ in in_photo]
            labels = [names.get(person, f"Person {person}") if person is not None else "Unsorted"
                      for _, person in in_photo]
            chosen = boxes.index(info.box) if info.box in boxes else -1
            self.photo_dialog = PhotoDialog(info.path, boxes, labels, chosen, self)
            self.photo_dialog.show_photo(image, scale)
            self.photo_dialog.show()

        self.worker.submit("albums-photo", lambda: jobs.photo_in_context(holder.get(), face_id),
                           label="Opening the photo", interleave=True, on_result=shown, on_error=self._failed)

    def open_album_folder(self) -> None:
        """Open the shown album in the system's file manager: its folder in the last export, else the
        folder of its first photo."""
        person = self.panel.person_id
        if person is None and not self.panel.is_unsorted:
            return  # no album shown
        holder = self.holder
        export = str(self.settings.value("albums/export", "")) or None

        def opened(folder: str) -> None:
            self.opened_folder = folder
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
                self._say(f"No file manager could open {folder}.", error=True)
            else:
                self._say(f"Opened {folder}.")

        self.worker.submit("albums-folder", lambda: jobs.album_folder(holder.get(), person, export),
                           label="Finding the album's folder", interleave=True, on_result=opened,
                           on_error=self._failed)


def report_words(report) -> str:
    """One sentence about a scan (the engine's report, its folder by name: the counts above say where)."""
    summary = getattr(report, "summary", None)
    if not callable(summary):
        return str(report)
    folder = getattr(report, "folder", "")
    return summary().replace(f" in {folder}:", f" in {Path(folder).name}:", 1) if folder else summary()


def export_words(report, folder: str) -> str:
    summary = getattr(report, "summary", None)
    if callable(summary):
        return summary()
    return f"Exported to {folder}: {report}"
