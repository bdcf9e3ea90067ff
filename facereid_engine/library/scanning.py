"""Scanning photo folders into the library: walk, detect, embed, store — incremental and resumable.

* Incremental: a photo whose (path, size, mtime) the library knows is not decoded again; a changed
  one is redone (faces that stay in place keep their id and the user's facts); a vanished one leaves
  the albums (its faces' facts stay until :meth:`Library.prune_missing`).
* Resumable: every photo is committed on its own, so a killed scan loses at most the photo in
  progress and the next scan continues from there.
* Pipelined: a thread decodes the next photos while the current one is detected and embedded.
* A photo that cannot be read is recorded with its error; the scan goes on. It is read again when
  the file changes (size, modification time, or a status change after the failure, such as a
  permission fixed), or on request (``ScanSettings.retry_errors``, :meth:`Library.retry_failed_work`).
* One photo, one path: a folder is stored by its real path (a link to it finds the same photos), and
  a file reached by several paths (links, hard links) is one photo under a path that does not depend
  on the walk order (a path without links first, then the smallest).
* The photo folder is only read, never written.

:func:`scan_work` (or :meth:`Library.scan_work`) is the one way in.
"""
from __future__ import annotations

import io
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..defaults import DEFAULT_DETECTOR, DEFAULT_ENCODER
from ..errors import FaceReIDError
from ..folders import find_images, still_there
from ..images import image_size, load_image
from .types import FaceRecord, GroupStats, PhotoError
from ..progress import Progress, Work

THUMBNAIL_SIDE = 112


class ScanError(FaceReIDError):
    """The folder to scan is missing or not a folder."""

    def __init__(self, path: str | os.PathLike, cause: str):
        self.path, self.cause = os.fspath(path), cause
        super().__init__(f"{self.path}: {cause}")


@dataclass(frozen=True)
class ScanSettings:
    """How photos are scanned.

    Detection runs on a copy of the photo scaled to ``max_side`` (long side, pixels); ``upsample``
    doubles that copy first for small faces (slower). Landmarks, chips and thumbnails always come from
    the full-resolution photo. See :data:`DETAIL` for the presets.
    """

    encoder: str = DEFAULT_ENCODER
    face_detector: str = DEFAULT_DETECTOR  # mmod or yunet (see pipeline.FacePipeline)
    max_side: int | None = 2048
    upsample: int | None = None   # None: small pictures only (pipeline.AUTO_UPSAMPLE_SIDE)
    group: bool = True            # regroup the albums at the end
    full_regroup: bool | None = None  # None: full regroup up to FULL_REGROUP_LIMIT faces, else place new faces
    retry_errors: bool = False    # read again the photos that failed before, even if unchanged
    decode_ahead: int = 2         # photos decoded ahead of the one being processed

    @property
    def detector(self) -> str:
        """The label stored with each photo: how its faces were detected."""
        return detector_label(self.face_detector, self.max_side, self.upsample)


def detector_label(name: str, max_side: int | None, upsample: int | None) -> str:
    return f"{name} max_side={max_side} upsample={'auto' if upsample is None else upsample}"


#: Detection presets, name -> (max_side, upsample), measured on a 12 MP photo (4032 x 3024) on 2 CPU
#: cores by benchmarks/bench_scan.py: "fast" finds faces from about 160 px; "normal" (the default)
#: from about 112 px, 1.5 s per photo; "small" from about 64 px (detection at up to 4096 px, about
#: 5x slower). Faces smaller than about 57 px of the detection copy are not found.
DETAIL = {"fast": (1600, None), "normal": (2048, None), "small": (4096, None)}


@dataclass
class ScanResult:
    """What a scan did."""

    folder: str
    photos: int = 0          # photo files found
    new: int = 0             # scanned for the first time
    changed: int = 0         # redone because the file changed
    unchanged: int = 0       # skipped: known and unchanged
    embedded: int = 0        # known photos embedded with another encoder
    missing: int = 0         # known photos no longer found
    retried: int = 0         # photos that had failed, read again (also counted as changed)
    decoded: int = 0         # photos decoded by this scan
    faces: int = 0           # faces found in the photos processed
    errors: list[PhotoError] = field(default_factory=list)   # photos that failed in this scan
    grouped: GroupStats | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{self.photos} photos in {self.folder}: {self.new} new, {self.changed} changed, "
                 f"{self.unchanged} unchanged"]
        if self.missing:
            parts.append(f"{self.missing} gone")
        if self.retried:
            parts.append(f"{self.retried} read again after an error")
        parts.append(f"{self.faces} faces found")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read")
        if self.grouped is not None:
            n = self.grouped.people
            parts.append(f"{n} {'person' if n == 1 else 'people'}, {self.grouped.unsorted} faces unsorted")
        return "; ".join(parts) + f" ({self.seconds:.1f} s)."


def walk_photos(folder: str | os.PathLike) -> list[str]:
    """Absolute paths of the photos under ``folder`` (resolved; sorted), each file once (see
    :func:`find_photos`)."""
    return find_photos(folder)[0]


def find_photos(folder: str | os.PathLike) -> tuple[list[str], dict[str, str]]:
    """(photos, aliases) under ``folder``: see :func:`facereid_engine.folders.find_images`."""
    found = find_images(folder)
    return found.photos, found.aliases


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian over the middle of an aligned chip (grey levels): low = blurred."""
    grey = chip.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = grey.shape
    g = grey[h // 6: h - h // 6, w // 6: w - w // 6]
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def thumbnail(image: np.ndarray, box, side: int = THUMBNAIL_SIDE) -> bytes:
    """A square JPEG around the face box (with a margin), from the full-resolution photo."""
    l, t, r, b = box
    cx, cy, half = (l + r) / 2, (t + b) / 2, max(r - l, b - t) * 0.65
    h, w = image.shape[:2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    crop = Image.fromarray(image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)])
    crop.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=85)
    return out.getvalue()


#: At most this many bytes of decoded photos are held ahead of the one being processed (besides it).
READ_AHEAD_BYTES = 512 * 1024**2


def _decoded_bytes(path: str) -> int:
    """Bytes of the RGB image ``path`` decodes to (from its header; 0 when unreadable: its error comes later)."""
    try:
        width, height = image_size(path)
    except Exception:  # noqa: BLE001 - the decode reports it, per photo
        return 0
    return 3 * width * height


def _load(path: str) -> np.ndarray | Exception:
    try:
        return load_image(path)
    except Exception as exc:  # recorded for this photo; the scan goes on
        return exc


def _error_text(exc: Exception) -> str:
    return getattr(exc, "cause", None) or f"{type(exc).__name__}: {exc}"


def default_settings(library, pipeline=None) -> ScanSettings:
    """A scan's settings when none are given: the pipeline's encoder and detection settings, else the
    library's own encoder (a library grouped with dlib stays dlib until asked otherwise)."""
    if pipeline is not None:
        return ScanSettings(encoder=pipeline.encoder_name, face_detector=pipeline.detector_name,
                            max_side=pipeline.max_side, upsample=pipeline.upsample)
    return ScanSettings(encoder=library.encoder)


def scan_work(library, folder: str | os.PathLike, settings: ScanSettings | None = None,
              pipeline=None) -> Work[ScanResult]:
    """Generator: scan ``folder`` into ``library``, then group; yields :class:`Progress` per photo
    (message: the photo; info: ``faces`` found so far, ``errors``, ``photo_faces``), returns
    :class:`ScanResult`. ``pipeline``: a ``FacePipeline`` embedding with ``settings.encoder``
    (default: one made for ``settings``); without ``settings``, see :func:`default_settings`."""
    settings = settings or default_settings(library, pipeline)
    if pipeline is not None and getattr(pipeline, "encoder_name", settings.encoder) != settings.encoder:
        raise ScanError(folder, f"the pipeline embeds with {pipeline.encoder_name!r}, not {settings.encoder!r}")
    start = time.perf_counter()
    root = os.path.realpath(folder)
    if not os.path.isdir(root):
        raise ScanError(root, "not a folder" if os.path.exists(root) else "folder not found")
    result = ScanResult(folder=root)
    yield Progress(0, 0, f"looking for photos in {root}")
    files, aliases = find_photos(root)
    result.photos = len(files)
    library.add_root(root)
    known = library.photo_index(root)
    moved = {old: new for old, new in aliases.items() if old in known}
    if moved:                     # known under another path of the same file: keep it, under the stable one
        library.move_photos(moved)
        known = library.photo_index(root)
    todo = _todo(files, known, library.photos_missing_embeddings(settings.encoder), settings, result)
    result.missing = library.set_missing(root, set(files))
    if library.get_meta("encoder") != settings.encoder:
        # The albums are grouped by the encoder of the latest scan; known faces get its embeddings
        # when their folder is scanned (no detection again).
        library.set_meta("encoder", settings.encoder)
    if pipeline is None and todo:
        from ..pipeline import FacePipeline
        pipeline = FacePipeline(settings.encoder, detector=settings.face_detector, upsample=settings.upsample,
                                max_side=settings.max_side)
    detector = detector_label(getattr(pipeline, "detector_name", settings.face_detector),
                              getattr(pipeline, "max_side", settings.max_side),
                              getattr(pipeline, "upsample", settings.upsample))
    total = len(todo)
    yield Progress(0, total, f"{total} photos to scan, {result.unchanged} unchanged", {"faces": 0, "errors": 0})
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facereid-decode")
    ahead: dict[int, Future] = {}
    try:
        held: dict[int, int] = {}  # decoded bytes of the photos read ahead
        for i, (path, size, mtime, kind, photo_id) in enumerate(todo):
            for j in range(i, min(total, i + 1 + max(0, settings.decode_ahead))):
                if j in ahead:
                    continue
                need = _decoded_bytes(todo[j][0])
                if j > i and sum(held.values()) + need > READ_AHEAD_BYTES:
                    break  # large photos are not decoded ahead: memory stays bounded
                ahead[j], held[j] = pool.submit(_load, todo[j][0]), need
            image = ahead.pop(i).result()
            held.pop(i, None)
            result.decoded += 1
            found = 0
            try:
                if isinstance(image, Exception):
                    raise image
                found = _process(library, pipeline, settings.encoder, detector, image, path, size, mtime,
                                 kind, photo_id)
            except Exception as exc:  # one bad photo never stops the scan
                library.record_error(path, size, mtime, _error_text(exc))
                result.errors.append(PhotoError(path, _error_text(exc)))
            else:
                if kind == "embed":
                    result.embedded += 1
                elif kind == "new":
                    result.new += 1
                else:
                    result.changed += 1
                    result.retried += kind == "retry"
                result.faces += found
            del image
            yield Progress(i + 1, total, path, {"faces": result.faces, "errors": len(result.errors),
                                                 "photo_faces": found})
    finally:
        for future in ahead.values():
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    if settings.group and library.needs_grouping():
        result.grouped = yield from library.group_work(settings.full_regroup)
    result.seconds = time.perf_counter() - start
    return result


def _todo(files: list[str], known: dict, unembedded: set[int], settings: ScanSettings,
          result: ScanResult) -> list[tuple[str, int, int, str, int | None]]:
    """The photos to read: (path, size, mtime, kind, photo id); kind is new, changed, retry or embed."""
    todo = []
    for path, st in still_there(files):
        size, mtime = st.st_size, st.st_mtime_ns
        entry = known.get(path)
        same = entry is not None and entry.size == size and entry.mtime_ns == mtime
        if entry is None:
            todo.append((path, size, mtime, "new", None))
        elif not same:
            todo.append((path, size, mtime, "retry" if entry.status == "error" else "changed", None))
        elif entry.status == "done":
            if entry.id in unembedded:
                todo.append((path, size, mtime, "embed", entry.id))
            else:
                result.unchanged += 1
        elif settings.retry_errors or st.st_ctime_ns > entry.scanned_at * 1e9:
            todo.append((path, size, mtime, "retry", None))     # e.g. its permissions were fixed since
        else:
            result.unchanged += 1
    return todo


def _process(library, pipeline, encoder: str, detector: str, image: np.ndarray, path: str, size: int,
             mtime: int, kind: str, photo_id: int | None) -> int:
    """Detect, align, embed and store one photo (or, for ``embed``, only embed its known faces)."""
    if kind == "embed":
        from ..faces import Face
        known = library.photo_faces(photo_id)
        faces = [Face(box, 0.0, landmarks) for _, box, landmarks in known]
        vectors = pipeline.embed_chips(pipeline.chips(image, faces))
        library.add_embeddings(photo_id, encoder, vectors)
        return len(faces)
    faces = pipeline.find_faces(image)
    chips = pipeline.chips(image, faces)
    vectors = pipeline.embed_chips(chips) if len(faces) else np.zeros((0, 0), np.float32)
    records = [FaceRecord(box=f.box, score=float(f.score), landmarks=f.landmarks, sharpness=sharpness(c),
                          embedding=v, thumbnail=thumbnail(image, f.box))
               for f, c, v in zip(faces, chips, vectors)]
    library.record_photo(path, size, mtime, image.shape[1], image.shape[0], records, encoder, detector)
    return len(records)
