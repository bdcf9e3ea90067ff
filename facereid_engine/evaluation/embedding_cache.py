"""Embeddings of image files, computed once per encoder and kept on disk.

:class:`EmbeddingCache` is one SQLite file per encoder under ``paths.cache_dir()/embeddings``, keyed
by the image's absolute path, size and modification time, the face-choice variant and whether the
chip was mirrored. :func:`embed_image_files` is the generator that fills it: one face per image
(the face nearest the centre, or the largest), detected and embedded in batches, the next batches
decoded and detected in a small thread pool while one is embedded.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ImageLoadError
from ..faces import Detection, Face
from ..images import load_image
from ..paths import cache_dir
from ..progress import Progress, Work
from ..pipeline import YUNET_RESCUE_THRESHOLD

FACE_CHOICES = ("centre", "largest")
# Without a detection, the face is taken to be this fraction of the image's short side, centred:
# dlib's detector boxes LFW's deep-funneled faces at about 96 px in the 250 px images.
FALLBACK_BOX_FRACTION = 0.4
_VERSION = 1  # bump when the way a face is chosen or cut changes


def _encoder_key(encoder) -> str:
    """The encoder's name plus what tells its weights apart (random test weights, the weights file)."""
    key = getattr(encoder, "cache_key", None)
    if key:
        return str(key)
    if getattr(encoder, "random_weights", False):
        return f"{encoder.name}@random"
    weights_file = getattr(encoder, "weights_file", None)
    return f"{encoder.name}@{Path(weights_file).name}" if weights_file else encoder.name


class EmbeddingCache:
    """Embeddings of one encoder, one row per (image, variant, mirrored)."""

    def __init__(self, encoder_key: str, directory: str | os.PathLike | None = None):
        folder = Path(directory) if directory is not None else cache_dir() / "embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.+@-]", "_", encoder_key)
        self.path = folder / f"{safe}.sqlite"
        self.encoder_key = encoder_key
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("""CREATE TABLE IF NOT EXISTS embeddings (
            path TEXT NOT NULL, variant TEXT NOT NULL, flipped INTEGER NOT NULL,
            size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, fallback INTEGER NOT NULL,
            vector BLOB NOT NULL, PRIMARY KEY (path, variant, flipped))""")
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def lookup(self, files: Sequence[tuple[str, int, int]], variant: str, flipped: bool
               ) -> dict[int, tuple[np.ndarray, bool]]:
        """``{i: (vector, fallback)}`` for each ``files[i] = (path, size, mtime_ns)`` found unchanged."""
        rows = self._db.execute("SELECT path, size, mtime_ns, fallback, vector FROM embeddings "
                                "WHERE variant = ? AND flipped = ?", (variant, int(flipped)))
        known = {path: (size, mtime, fallback, blob) for path, size, mtime, fallback, blob in rows}
        out = {}
        for i, (path, size, mtime) in enumerate(files):
            hit = known.get(path)
            if hit is not None and hit[0] == size and hit[1] == mtime:
                out[i] = (np.frombuffer(hit[3], dtype=np.float32).copy(), bool(hit[2]))
        return out

    def store(self, rows: Sequence[tuple[tuple[str, int, int], np.ndarray, bool]], variant: str,
              flipped: bool) -> None:
        """Save ``(file, vector, fallback)`` rows (replacing older versions of the same images)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(f[0], variant, int(flipped), f[1], f[2], int(fb), np.asarray(v, dtype=np.float32).tobytes())
             for f, v, fb in rows])
        self._db.commit()


@dataclass(frozen=True)
class ImageEmbeddings:
    """One vector per image, in the order asked for.

    Attributes:
        vectors: (N, D) float32; with flip, the mean of the plain and mirrored chips' raw vectors.
        fallback: (N,) bool: no face was detected, so the centre box was embedded instead.
        cached: how many images came from the cache (all their vectors).
        seconds: wall time of the whole call.
    """

    vectors: np.ndarray
    fallback: np.ndarray
    cached: int
    seconds: float


def _absolute(path: str | os.PathLike) -> Path:
    """The cache's name for a file: absolute and normalised (``..`` removed, links kept)."""
    return Path(os.path.abspath(os.fspath(path)))


def _file_key(path: Path) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ImageLoadError(path, "file not found" if isinstance(exc, FileNotFoundError)
                             else f"cannot be read ({exc.strerror or exc})") from None
    return (str(path), int(st.st_size), int(st.st_mtime_ns))


def choose_face(faces: Sequence[Detection], width: int, height: int, how: str = "centre") -> Detection:
    """The face nearest the image centre (``centre``) or the largest box (``largest``); ties: first."""
    if how == "largest":
        return max(faces, key=lambda f: f.area)  # max keeps the first of equals
    cx, cy = (width - 1) / 2, (height - 1) / 2
    return min(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2)


def centre_box(width: int, height: int, fraction: float = FALLBACK_BOX_FRACTION) -> tuple[int, int, int, int]:
    """A centred square box (inclusive) ``fraction`` of the short side wide."""
    side = max(1, round(fraction * min(width, height)))
    left, top = (width - side) // 2, (height - side) // 2
    return (left, top, left + side - 1, top + side - 1)


def face_chips(pipeline, paths: Sequence[Path], how: str = "centre") -> list[tuple[np.ndarray, bool]]:
    """(chip, fallback) for each image: the chosen detected face, else the centre box treated as the
    face (landmarks from the shape predictor inside that box, chip cut from the whole image)."""
    images = [load_image(p) for p in paths]
    out = []
    for image, found in zip(images, pipeline.detect_many(images, at_least_one=True)):
        height, width = image.shape[:2]
        if found:
            face, fallback = pipeline.complete(image, [choose_face(found, width, height, how)])[0], False
        else:
            box, fallback = centre_box(width, height), True
            face = Face(box, float("nan"), pipeline.landmarks(image, [box])[0])
        out.append((pipeline.chips(image, [face])[0], fallback))
    return out


def embed_image_files(paths: Sequence[str | os.PathLike], pipeline, *, flip: bool = False,
                      face_choice: str = "centre", use_cache: bool = True, batch_size: int = 32,
                      workers: int = 2, cache_directory: str | os.PathLike | None = None
                      ) -> Work[ImageEmbeddings]:
    """Embed one face per image (a generator: yields :class:`Progress`, returns :class:`ImageEmbeddings`).

    Args:
        paths: image files; each is embedded once even if listed twice.
        pipeline: a :class:`~facereid_engine.pipeline.FacePipeline` (its encoder is used).
        flip: also embed the mirrored chip and average the two raw vectors.
        face_choice: ``centre`` (nearest the image centre: LFW) or ``largest``.
        use_cache: read and fill the on-disk cache (plain and mirrored vectors are cached separately;
            an image with one of the two cached is detected again and only the other is embedded).
        batch_size: chips per encoder call.
        workers: threads decoding and detecting ahead of the encoder (results keep the input order).
        cache_directory: where the cache lives (default ``cache_dir()/embeddings``).

    Raises:
        ImageLoadError: an image cannot be read. Closing the generator stops the work; what was
        embedded so far stays cached.
    """
    if face_choice not in FACE_CHOICES:
        raise ValueError(f"face_choice must be one of {FACE_CHOICES}, not {face_choice!r}")
    start = time.monotonic()
    unique = list(dict.fromkeys(_absolute(p) for p in paths))
    where = {p: i for i, p in enumerate(unique)}
    encoder = pipeline.encoder
    up = "auto" if pipeline.upsample is None else pipeline.upsample
    variant = (f"v{_VERSION};{face_choice};up{up};side{pipeline.max_side}"
               + ("" if pipeline.detector_name == "mmod"
                  else f";{pipeline.detector_name};rescue{YUNET_RESCUE_THRESHOLD:g}"))
    flips = (False, True) if flip else (False,)
    n = len(unique)
    yield Progress(0, n, "checking the embedding cache")
    files = [_file_key(p) for p in unique]
    vectors = {f: np.zeros((n, encoder.dim), dtype=np.float32) for f in flips}
    have = {f: np.zeros(n, dtype=bool) for f in flips}
    fallback = np.zeros(n, dtype=bool)
    cache = EmbeddingCache(_encoder_key(encoder), cache_directory) if use_cache else None
    try:
        if cache is not None:
            for f in flips:
                for i, (vector, fell_back) in cache.lookup(files, variant, f).items():
                    vectors[f][i] = vector
                    fallback[i] = fell_back
                    have[f][i] = True
        done = np.logical_and.reduce([have[f] for f in flips])
        cached = int(done.sum())
        todo = [i for i in range(n) if not done[i]]
        yield Progress(cached, n, f"{cached} images from the cache, {len(todo)} to embed",
                       {"cached": cached})
        if todo:
            yield from _embed_missing(unique, files, todo, pipeline, have, face_choice, batch_size, workers,
                                      vectors, fallback, cache, variant, cached, n)
    finally:
        if cache is not None:
            cache.close()
    out = vectors[False] if not flip else (vectors[False] + vectors[True]) / 2
    order = np.array([where[_absolute(p)] for p in paths], dtype=np.int64)
    return ImageEmbeddings(vectors=out[order].astype(np.float32), fallback=fallback[order], cached=cached,
                           seconds=time.monotonic() - start)


def _embed_missing(unique, files, todo, pipeline, have, face_choice, batch_size, workers,
                   vectors, fallback, cache, variant, done_count, n) -> Work[None]:
    """Decode + detect + cut chips batch by batch in ``workers`` threads (in order) while this thread embeds."""
    encoder = pipeline.encoder
    _ = (pipeline.detector, pipeline.shape_predictor)  # load the models once, before the threads share them
    batches = [todo[k:k + batch_size] for k in range(0, len(todo), batch_size)]
    pending: deque[tuple[list[int], Future]] = deque()
    queue = iter(batches)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="facereid-embed")

    def refill() -> None:
        while len(pending) < max(1, workers):
            batch = next(queue, None)
            if batch is None:
                return
            pending.append((batch, pool.submit(face_chips, pipeline, [unique[i] for i in batch], face_choice)))

    try:
        refill()
        while pending:
            batch, future = pending.popleft()
            prepared = future.result()
            refill()
            chips = np.stack([c for c, _ in prepared])
            fallback[batch] = [fb for _, fb in prepared]
            for f, known in have.items():  # the plain and/or the mirrored vectors this batch still lacks
                need = [j for j, i in enumerate(batch) if not known[i]]
                if not need:
                    continue
                rows = [batch[j] for j in need]
                part = chips[need]
                vectors[f][rows] = encoder.embed(encoder.mirror(part) if f else part)
                if cache is not None:
                    cache.store([(files[i], vectors[f][i], fallback[i]) for i in rows], variant, f)
            done_count += len(batch)
            yield Progress(done_count, n, f"embedded {unique[batch[-1]].name}", {"fallbacks": int(fallback.sum())})
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
