"""The people-albums library: photos, faces, embeddings, people and the user's corrections in SQLite.

API for the GUI (Qt-free; long work is a generator of :class:`~..progress.Progress` that returns its
result, to drive in the worker thread; every other call is quick, persists at once, and may be made
from any thread — the library serialises them)::

    lib = Library(path=None, readonly=False)   # one SQLite file; default paths.default_library_path()
        # only FaceReID's own files open (PRAGMA application_id = schema.APPLICATION_ID, "FRID");
        # readonly=True never writes to the file
    # long work (generators)
    lib.scan_work(folder, settings=ScanSettings(), pipeline=None) -> ScanResult   # the one way to scan
        # incremental and resumable; groups at the end; Progress(done, total, message=photo path,
        # info={"faces": found so far, "errors": n, "photo_faces": n}); ScanResult.summary()
    lib.retry_failed_work(settings=None) -> [ScanResult]   # read again every photo that failed
    lib.group_work(full=None) -> GroupStats       # regroup all faces (None: full up to 50,000 faces)
    export.export_work(lib, dest, mode="link"|"copy", root=None, people=None, xmp=False) -> ExportResult
        # (export.export_albums: the same, run to its end); ExportResult.summary()
    # reading
    lib.people() -> [Person]          # id, name, display_name, face_count, photo_count, cover_face_id
    lib.faces(person_id) / lib.unsorted() / lib.faces(root=folder) -> [FaceInfo]
        # FaceInfo: id, photo path, box (l, t, r, b), score, sharpness, person_id, confirmed, size
    lib.face(face_id); lib.face_thumbnail(face_id) -> JPEG bytes (cut at scan time)
    lib.suggestions(limit=50) -> [Suggestion(person_a, person_b, distance)]    # may be one person
    lib.errors(root=None) -> [PhotoError(path, error)]; lib.counts() -> dict; lib.roots()
    # corrections: facts that every regroup keeps; each is undoable
    lib.rename(person_id, name)       # naming also confirms the person's faces
    lib.merge(person_ids, into=None) -> kept id
    lib.move_faces(face_ids, person_id); lib.split(face_ids, name=None) -> new person id
    lib.not_this_person(face_ids, person_id=None); lib.not_a_face(face_ids)
    lib.dismiss_suggestion(person_a, person_b)
    lib.undo() -> what was undone (None: nothing); lib.last_correction() -> its description
    # settings and housekeeping
    lib.group_settings() -> GroupSettings; lib.set_group_settings(threshold=..., min_face_size=...)
    lib.prune_missing() -> photos forgotten; lib.close()   (or use ``with Library(...) as lib``)

Errors are :class:`LibraryError` (a FaceReIDError) naming what is wrong. Corrections change the
albums at once; ``group_work()`` afterwards lets the other faces follow (e.g. unsorted faces may
join a merged person).
"""
from .schema import APPLICATION_ID, SCHEMA_VERSION, LibraryError
from .store import Library
from .types import FaceInfo, GroupStats, Person, PhotoError, Suggestion, unnamed_label

__all__ = ["Library", "LibraryError", "APPLICATION_ID", "SCHEMA_VERSION", "FaceInfo", "GroupStats", "Person", "PhotoError",
           "Suggestion", "unnamed_label"]
