"""The people-albums library: photos, faces, embeddings, people and the user's corrections in SQLite.

API for the GUI (all of it Qt-free; long work is a generator of :class:`~..progress.Progress` to drive
in a worker thread; every other call is quick and may be made from any thread)::

    lib = Library(path=None)                      # default: paths.default_library_path()
    lib.scan_work(folder, settings=ScanSettings(), pipeline=None)  -> Work[ScanResult]
        # incremental, resumable; groups at the end; Progress.info = {"faces", "errors", "photo"}
    lib.group_work(full=None) -> Work[GroupStats]  # regroup everything (or only place unsorted faces)
    lib.people() -> list[Person]                   # albums: id, name, display_name, counts, cover_face_id
    lib.faces(person_id) / lib.unsorted() / lib.faces(root=folder) -> list[FaceInfo]
    lib.face(face_id) -> FaceInfo; lib.face_thumbnail(face_id) -> JPEG bytes
    lib.errors(root=None) -> list[PhotoError]; lib.counts() -> dict
    lib.suggestions(limit=50) -> list[Suggestion]  # people who may be one
    # corrections: each is stored at once, survives regroups, and is undoable
    lib.rename(person_id, name); lib.merge(person_ids, into=None) -> id
    lib.move_faces(face_ids, person_id); lib.split(face_ids, name=None) -> new id
    lib.not_this_person(face_ids, person_id=None); lib.not_a_face(face_ids)
    lib.dismiss_suggestion(a, b); lib.undo() -> description | None; lib.last_correction()
    lib.group_settings() / lib.set_group_settings(threshold=..., min_face_size=...)
    lib.prune_missing(); lib.close()
    export_albums(lib, dest, mode="link"|"copy", ...) -> Work[ExportResult]   # facereid_engine.export

Corrections change the albums at once; a regroup is needed only for the rest of the faces to follow
(e.g. after a merge the GUI may call ``group_work()`` to let unsorted faces join).
"""
from .schema import SCHEMA_VERSION, LibraryError
from .store import Library
from .types import FaceInfo, GroupStats, Person, PhotoError, Suggestion, unnamed_label

__all__ = ["Library", "LibraryError", "SCHEMA_VERSION", "FaceInfo", "GroupStats", "Person", "PhotoError",
           "Suggestion", "unnamed_label"]
