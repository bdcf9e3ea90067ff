"""Bringing an index made on a cluster (``facereid index``) into a library, then grouping it.

Each photo of the index is stored as a single-machine scan stores it (same path, faces, landmarks,
sharpness, thumbnail, embedding, detector label), in the scan's order (by path), so the albums are
those a scan of the same photos gives. Incremental as a scan is: a photo the library holds
unchanged is skipped; a changed one is updated in place (its faces keep their ids and the user's
facts). Needs pyarrow (the ``cluster`` extra), not Ray.
"""
from __future__ import annotations

import os
import time

from ..progress import Progress, Work
from .scanning import ScanError, ScanResult
from .types import FaceRecord, PhotoError


def _current(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


#: Photos stored per transaction (1.47x the photos/s of one commit each, benchmarks/bench_library_writes.py);
#: a cancelled or killed import loses at most this many, which a rerun stores again.
IMPORT_BATCH = 500


def _store_photo(library, photo: dict, entry, unembedded: set, encoder: str, detector: str,
                 result: ScanResult) -> None:
    path, size, mtime = photo["path"], photo["size"], photo["mtime_ns"]
    if (entry is not None and entry.size == size and entry.mtime_ns == mtime and entry.status == "done"
            and entry.id not in unembedded):
        result.unchanged += 1
    elif photo["error"] is not None:
        library.record_error(path, size, mtime, photo["error"])
        result.errors.append(PhotoError(path, photo["error"]))
    else:
        records = [FaceRecord(box=f["box"], score=f["score"], landmarks=f["landmarks"], sharpness=f["sharpness"],
                              embedding=f["embedding"], thumbnail=f["thumbnail"]) for f in photo["faces"]]
        library.record_photo(path, size, mtime, photo["width"], photo["height"], records, encoder, detector)
        if entry is None:
            result.new += 1
        else:
            result.changed += 1
        result.faces += len(records)


def import_index_work(library, folder: str | os.PathLike, group: bool = True,
                      full_regroup: bool | None = None) -> Work[ScanResult]:
    """Generator: store the index at ``folder`` in ``library``, then group; returns a
    :class:`~.scanning.ScanResult` (its ``folder`` is the indexed photo folder). Progress comes once
    per :data:`IMPORT_BATCH` photos, each batch committed in one transaction."""
    from ..cluster.shards import read_manifest, read_photos
    start = time.perf_counter()
    manifest = read_manifest(folder)
    if manifest is None:
        raise ScanError(folder, "not a FaceReID index (no index.json): make one with 'facereid index'")
    root, encoder, detector = manifest["root"], manifest["encoder"], manifest["detector"]
    result = ScanResult(folder=root)
    yield Progress(0, 0, f"reading the index {os.fspath(folder)}")
    photos = list(read_photos(folder, current=_current))
    result.photos = len(photos)
    library.add_root(root)
    known = library.photo_index(root)
    unembedded = library.photos_missing_embeddings(encoder)
    if library.get_meta("encoder") != encoder:
        library.set_meta("encoder", encoder)
    for first in range(0, len(photos), IMPORT_BATCH):
        chunk = photos[first:first + IMPORT_BATCH]
        with library.batch():  # one transaction per chunk; nothing is yielded while it is open
            for photo in chunk:
                _store_photo(library, photo, known.get(photo["path"]), unembedded, encoder, detector, result)
        yield Progress(first + len(chunk), len(photos), chunk[-1]["path"],
                       {"faces": result.faces, "errors": len(result.errors)})
    if group and library.needs_grouping():
        result.grouped = yield from library.group_work(full_regroup)
    result.seconds = time.perf_counter() - start
    return result
