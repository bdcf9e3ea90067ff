"""Worker-side work of the Albums page: open the library, read it for the page, scan, correct, export.

Every function here touches the library or decodes images, so it runs in the worker thread only;
it hands the page plain records and ``QImage`` thumbnails.
"""
from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from ..widgets.qimage import downscaled, qimage_from_array

PHOTO_SIDE = 1400


@dataclass
class PersonCard:
    person: object  # facereid_engine.library Person
    cover: QImage | None


@dataclass
class FaceCard:
    info: object  # facereid_engine.library FaceInfo
    thumbnail: QImage | None


@dataclass
class SuggestionCard:
    person_a: int
    person_b: int
    name_a: str
    name_b: str
    distance: float


@dataclass
class AlbumsSnapshot:
    """Everything the Albums page shows of the library, read in one go."""

    path: str
    counts: dict
    people: list[PersonCard]
    unsorted_count: int
    unsorted_cover: QImage | None
    suggestions: list[SuggestionCard] = field(default_factory=list)
    errors: list = field(default_factory=list)
    last_correction: str | None = None
    encoder: str = ""  # the encoder the albums are grouped by


class LibraryHolder:
    """The page's library, opened on first use in the worker thread and used only there."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = path
        self._library = None

    def get(self):
        if self._library is None:
            from facereid_engine.library import Library

            self._library = Library(self.path)
        return self._library

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None


def thumbnail(library, face_id: int) -> QImage | None:
    """The face's stored JPEG thumbnail, decoded with Pillow.

    Not ``QImage.fromData``: run in the worker thread it probes Qt's image plugins, whose SVG probe
    takes a QObject mutex while the binding holds the GIL, and deadlocks when the UI thread holds
    that mutex and waits for the GIL (seen in the suite: a hang in QSvgDocument::isLikelySvg).
    """
    data = library.face_thumbnail(face_id)
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
        return None
    return qimage_from_array(rgb)


def snapshot(library) -> AlbumsSnapshot:
    """Read the people, counts, suggestions and errors of the library."""
    people = library.people()
    cards = [PersonCard(p, thumbnail(library, p.cover_face_id) if p.cover_face_id else None) for p in people]
    unsorted = library.unsorted()
    cover = thumbnail(library, max(unsorted, key=lambda f: f.size).id) if unsorted else None
    names = {p.id: p.display_name for p in people}
    suggestions = [SuggestionCard(s.person_a, s.person_b, names.get(s.person_a, f"Person {s.person_a}"),
                                  names.get(s.person_b, f"Person {s.person_b}"), s.distance)
                   for s in library.suggestions()
                   if s.person_a in names and s.person_b in names]
    return AlbumsSnapshot(str(library.path), library.counts(), cards, len(unsorted), cover, suggestions,
                          library.errors(), library.last_correction(), library.encoder)


def person_faces(library, person_id: int | None) -> list[FaceCard]:
    """The faces of a person (``None``: the unsorted faces) with their thumbnails."""
    faces = library.unsorted() if person_id is None else library.faces(person_id)
    return [FaceCard(f, thumbnail(library, f.id)) for f in faces]


def correct(library, action: str, *args):
    """Apply one correction (a method of the library, e.g. ``rename``) and return the new snapshot.

    No regroup follows, so that Undo takes back exactly what the user did; the next scan regroups."""
    getattr(library, action)(*args)
    return snapshot(library)


def undo(library):
    """Undo the last correction; returns (what was undone or None, the new snapshot)."""
    undone = library.undo()
    return undone, snapshot(library)


@dataclass(frozen=True)
class ScanChoice:
    """What the user chose for the next scan (the Albums page's options)."""

    encoder: str | None = None  # None: the library's own encoder (new library: the engine's default)
    detail: str = "normal"      # a key of facereid_engine.library.scanning.DETAIL
    detector: str = "mmod"      # mmod or yunet (the page passes its choice, default DEFAULT_DETECTOR)


#: During a scan, the albums are brought up to date (new faces placed) at most this often, and never
#: more than 1/LIVE_SHARE of the time (placing faces reads every face of the library).
LIVE_EVERY_S, LIVE_SHARE = 4.0, 8


def scan(library, folder: str, choice: ScanChoice = ScanChoice()):
    """Generator: scan ``folder`` into the library (incremental), regroup, and return (report, the new
    snapshot). Every few seconds the new faces are placed (people appear and grow during the scan):
    those events carry ``info["snapshot"]``."""
    from dataclasses import replace

    from facereid_engine.library.scanning import DETAIL, ScanSettings
    from facereid_engine.pipeline import get_pipeline

    encoder = choice.encoder or library.encoder
    max_side, upsample = DETAIL[choice.detail]
    settings = ScanSettings(encoder=encoder, face_detector=choice.detector, max_side=max_side, upsample=upsample)
    pipeline = get_pipeline(encoder, detector=choice.detector, max_side=max_side, upsample=upsample)
    work = library.scan_work(folder, settings, pipeline)
    wait, last = LIVE_EVERY_S, time.monotonic()
    while True:
        try:
            event = next(work)
        except StopIteration as stop:
            return stop.value, snapshot(library)
        if event.total and 0 < event.done < event.total and time.monotonic() - last >= wait:
            started = time.monotonic()
            yield from library.group_work(full=False)  # places the faces found so far
            event = replace(event, info={**event.info, "snapshot": snapshot(library), "keep": True})
            last = time.monotonic()
            wait = max(LIVE_EVERY_S, LIVE_SHARE * (last - started))
        yield event


def photo_in_context(library, face_id: int):
    """(the face, every face of its photo as (box, person id), the photo for the screen, its scale)."""
    info = library.face(face_id)
    faces = [(f.box, f.person_id) for f in library.faces(root=str(Path(info.path).parent))
             if f.photo_id == info.photo_id]
    image, scale = photo_with_box(info.path, info.box)
    return info, faces, image, scale


def album_folder(library, person_id: int | None, export_folder: str | None) -> str:
    """The folder to open for a person's album: its folder in the last export when there is one, else
    the folder of its first photo."""
    if export_folder and person_id is not None:
        from facereid_engine.library.export import person_folders

        name = person_folders(library.people()).get(person_id)
        if name and (Path(export_folder) / name).is_dir():
            return str(Path(export_folder) / name)
    faces = library.unsorted() if person_id is None else library.faces(person_id)
    if not faces:
        raise FileNotFoundError("this album has no photo")
    return str(Path(faces[0].path).parent)


def export(library, destination: str, mode: str = "link"):
    """Generator: export the albums to ``destination``; returns the engine's report of what was written."""
    from facereid_engine.library.export import export_work

    return (yield from export_work(library, destination, mode=mode))


def photo_with_box(path: str, box) -> tuple[QImage, float]:
    """A photo (downscaled for the screen) to show one face in context."""
    from facereid_engine.images import load_image

    image = load_image(path)
    shown, scale = downscaled(image, PHOTO_SIDE)
    return qimage_from_array(shown), scale


def folder_name(path: str) -> str:
    return Path(path).name or path
