"""Scanning photo folders into the library: walk, detect, embed, store — incremental and resumable.

* Incremental: a photo whose (path, size, mtime) the library knows is not decoded again; a changed
  one is redone (faces that stay in place keep their id and the user's facts); a vanished one leaves
  the albums (its faces' facts stay until :meth:`Library.prune_missing`).
* Resumable: every photo is committed on its own, so a killed scan loses at most the photo in
  progress and the next scan continues from there.
* Pipelined: a thread decodes the next photos while the current one is detected and embedded.
* A photo that cannot be read is recorded with its error; the scan goes on.
* The photo folder is only read, never written.
"""
from __future__ import annotations

import io
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..errors import FaceReIDError
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

    encoder: str = "dlib"
    max_side: int | None = 2048
    upsample: int = 0
    group: bool = True            # regroup the albums at the end
    full_regroup: bool | None = None  # None: full regroup up to FULL_REGROUP_LIMIT faces, else place new faces
    retry_errors: bool = False    # read again the photos that failed before, even if unchanged
    decode_ahead: int = 2         # photos decoded ahead of the one being processed

    @property
    def detector(self) -> str:
        return f"mmod max_side={self.max_side} upsample={self.upsample}"


#: Detection presets, name -> (max_side, upsample), measured on a 12 MP photo (4032 x 3024) on 2 CPU
#: cores by benchmarks/bench_scan.py: "fast" finds faces from about 160 px; "normal" (the default)
#: from about 112 px, 1.5 s per photo; "small" from about 64 px (detection at up to 4096 px, about
#: 5x slower). Faces smaller than about 57 px of the detection copy are not found.
DETAIL = {"fast": (1600, 0), "normal": (2048, 0), "small": (4096, 0)}


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
        parts.append(f"{self.faces} faces found")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read")
        if self.grouped is not None:
            n = self.grouped.people
            parts.append(f"{n} {'person' if n == 1 else 'people'}, {self.grouped.unsorted} faces unsorted")
        return "; ".join(parts) + f" ({self.seconds:.1f} s)."


def walk_photos(folder: str | os.PathLike) -> list[str]:
    """Absolute paths of the photos under ``folder`` (sorted), skipping hidden files and folders and
    never entering a folder twice (symbolic-link loops)."""
    from ..images import SUPPORTED_EXTENSIONS
    root = os.path.abspath(folder)
    found: list[str] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            st = os.stat(current)
            if (st.st_dev, st.st_ino) in seen_dirs:
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():        # follows links; the (dev, inode) check above stops loops
                    stack.append(entry.path)
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in SUPPORTED_EXTENSIONS:
                    st = entry.stat()
                    if (st.st_dev, st.st_ino) not in seen_files:   # one file linked twice counts once
                        seen_files.add((st.st_dev, st.st_ino))
                        found.append(entry.path)
            except OSError:
                continue
    return sorted(found)


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


def _load(path: str) -> np.ndarray | Exception:
    from ..images import load_image
    try:
        return load_image(path)
    except Exception as exc:  # recorded for this photo; the scan goes on
        return exc


def _error_text(exc: Exception) -> str:
    return getattr(exc, "cause", None) or f"{type(exc).__name__}: {exc}"


def scan_folder(library, folder: str | os.PathLike, *, encoder: str | None = None,
                settings: ScanSettings | None = None, pipeline=None) -> Work[ScanResult]:
    """Generator: scan ``folder`` into ``library``; yields :class:`Progress` per photo (message: the
    photo; info: ``faces`` found so far, ``errors``, ``photo_faces``), returns :class:`ScanResult`."""
    settings = settings or ScanSettings()
    if encoder is not None and encoder != settings.encoder:
        from dataclasses import replace
        settings = replace(settings, encoder=encoder)
    if pipeline is not None and getattr(pipeline, "encoder_name", settings.encoder) != settings.encoder:
        raise ScanError(folder, f"the pipeline embeds with {pipeline.encoder_name!r}, not {settings.encoder!r}")
    start = time.perf_counter()
    root = os.path.abspath(folder)
    if not os.path.isdir(root):
        raise ScanError(root, "not a folder" if os.path.exists(root) else "folder not found")
    result = ScanResult(folder=root)
    yield Progress(0, 0, f"looking for photos in {root}")
    files = walk_photos(root)
    result.photos = len(files)
    known = library.photo_index(root)
    unembedded = library.photos_missing_embeddings(settings.encoder)
    todo: list[tuple[str, int, int, str, int | None]] = []   # path, size, mtime, kind, photo id
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        size, mtime = st.st_size, st.st_mtime_ns
        entry = known.get(path)
        same = entry is not None and entry[1] == size and entry[2] == mtime
        if same and entry[3] == "done" and entry[0] not in unembedded:
            result.unchanged += 1
        elif same and entry[3] == "done":
            todo.append((path, size, mtime, "embed", entry[0]))
        elif same and entry[3] == "error" and not settings.retry_errors:
            result.unchanged += 1
        else:
            todo.append((path, size, mtime, "changed" if entry is not None else "new", None))
    result.missing = library.set_missing(root, set(files))
    if library.get_meta("encoder") != settings.encoder:
        # The albums are grouped by the encoder of the latest scan; known faces get its embeddings
        # when their folder is scanned (no detection again).
        library.set_meta("encoder", settings.encoder)
    library.add_root(root)
    if pipeline is None and todo:
        from ..pipeline import FacePipeline
        pipeline = FacePipeline(settings.encoder, upsample=settings.upsample, max_side=settings.max_side)
    total = len(todo)
    yield Progress(0, total, f"{total} photos to scan, {result.unchanged} unchanged", {"faces": 0, "errors": 0})
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facereid-decode")
    ahead: dict[int, Future] = {}
    try:
        for i, (path, size, mtime, kind, photo_id) in enumerate(todo):
            for j in range(i, min(total, i + 1 + max(0, settings.decode_ahead))):
                if j not in ahead:
                    ahead[j] = pool.submit(_load, todo[j][0])
            image = ahead.pop(i).result()
            result.decoded += 1
            found = 0
            if isinstance(image, Exception):
                library.record_error(path, size, mtime, _error_text(image))
                result.errors.append(PhotoError(path, _error_text(image)))
            else:
                try:
                    found = _process(library, pipeline, settings, image, path, size, mtime, kind, photo_id)
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


def _process(library, pipeline, settings: ScanSettings, image: np.ndarray, path: str, size: int, mtime: int,
             kind: str, photo_id: int | None) -> int:
    """Detect, align, embed and store one photo (or, for ``embed``, only embed its known faces)."""
    if kind == "embed":
        from ..faces import Face
        known = library.photo_faces(photo_id)
        faces = [Face(box, 0.0, landmarks) for _, box, landmarks in known]
        vectors = pipeline.embed_chips(pipeline.chips(image, faces))
        library.add_embeddings(photo_id, settings.encoder, vectors)
        return len(faces)
    faces = pipeline.find_faces(image)
    chips = pipeline.chips(image, faces)
    vectors = pipeline.embed_chips(chips) if len(faces) else np.zeros((0, 0), np.float32)
    records = [FaceRecord(box=f.box, score=float(f.score), landmarks=f.landmarks, sharpness=sharpness(c),
                          embedding=v, thumbnail=thumbnail(image, f.box))
               for f, c, v in zip(faces, chips, vectors)]
    detector = f"mmod max_side={getattr(pipeline, 'max_side', settings.max_side)} " \
               f"upsample={getattr(pipeline, 'upsample', settings.upsample)}"
    library.record_photo(path, size, mtime, image.shape[1], image.shape[0], records, settings.encoder, detector)
    return len(records)


def scan(library, folder: str | os.PathLike, settings: ScanSettings | None = None,
         pipeline=None) -> Work[ScanResult]:
    """Same as :func:`scan_folder`."""
    return scan_folder(library, folder, settings=settings, pipeline=pipeline)

