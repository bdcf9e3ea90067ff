"""The model-holding worker: one per Ray actor, loads the models once, indexes batches of photos.

A batch is decoded on a small thread pool (off the thread that runs the models), every photo is
detected and its faces aligned, the chips of the whole batch are embedded in one call (one transfer,
one big batch on a GPU), and the batch is written as one shard (:mod:`.shards`). What a photo gives
is what a single-machine scan stores for it (:func:`facereid_engine.library.scanning.scan_work`):
the same faces, landmarks, sharpness, thumbnail and embedding.

This module imports no Ray: the worker is a plain class that Ray Data turns into a pool of actors
(and that tests and benchmarks may call directly).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .shards import shard_name, write_shard

#: For tests of recovery only: a worker given a photo whose path contains this text exits at once
#: (as a killed machine would), the first time only (a marker file next to the index remembers it).
CRASH_ONCE_ENV = "FACEREID_INDEX_CRASH_ONCE"
#: Threads decoding photos for one worker (each holds at most twice as many decoded ahead).
DECODE_THREADS = 2


class IndexWorker:
    """Callable on a batch ``{"path", "size", "mtime_ns"}`` (arrays); returns the batch's summary
    ``{"path", "faces", "error" ("" for none), "shard"}`` after writing its shard under ``out``."""

    def __init__(self, out: str, encoder: str, face_detector: str, max_side: int | None,
                 upsample: int | None, threads: int = 1):
        import torch

        from ..device import best_device
        from ..pipeline import FacePipeline
        self.out = out
        self.device = best_device()
        if self.device.type == "cpu":
            torch.set_num_threads(max(1, threads))
        self.pipeline = FacePipeline(encoder, detector=face_detector, upsample=upsample, max_side=max_side,
                                     device=self.device)
        self.pipeline.encoder, self.pipeline.detector, self.pipeline.shape_predictor  # one load, now
        self.pool = ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="facereid-decode")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        photos = [(str(p), int(s), int(m)) for p, s, m in zip(batch["path"], batch["size"], batch["mtime_ns"])]
        rows, faces, errors = index_photos(self.pipeline, photos, self.pool, self.out)
        name = shard_name(photos)
        write_shard(self.out, name, rows)
        return {"path": np.array([p for p, _, _ in photos], dtype=object), "faces": np.array(faces, np.int64),
                "error": np.array([e or "" for e in errors], dtype=object), "shard": np.array([name] * len(photos), dtype=object)}


def _crash_if_asked(path: str, out: str) -> None:
    needle = os.environ.get(CRASH_ONCE_ENV)
    if needle and needle in path:
        marker = os.path.join(out, ".crashed-once")
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(17)


def index_photos(pipeline, photos: list[tuple[str, int, int]], pool: ThreadPoolExecutor | None = None,
                 out: str | None = None) -> tuple[list[dict], list[int], list[str | None]]:
    """Shard rows for ``photos`` (path, size, mtime_ns), and per photo its face count and error."""
    from ..library.scanning import _error_text, _load, sharpness, thumbnail
    ahead = 2 * DECODE_THREADS if pool else 0     # photos decoded ahead: memory stays bounded
    loads = {i: pool.submit(_load, photos[i][0]) for i in range(min(ahead, len(photos)))} if pool else {}
    found: list[tuple] = []          # (photo, image shape, faces, chips, thumbnails, error)
    for i, (path, size, mtime) in enumerate(photos):
        if pool and i + ahead < len(photos):
            loads[i + ahead] = pool.submit(_load, photos[i + ahead][0])
        image = loads.pop(i).result() if pool else _load(path)
        if out is not None:
            _crash_if_asked(path, out)
        try:
            if isinstance(image, Exception):
                raise image
            faces = pipeline.find_faces(image)
            chips = pipeline.chips(image, faces)
            thumbs = [thumbnail(image, f.box) for f in faces]
            found.append(((path, size, mtime), image.shape, faces, chips, thumbs, None))
        except Exception as exc:  # one bad photo never stops the batch
            found.append(((path, size, mtime), None, [], [], [], _error_text(exc)))
        del image
    all_chips = [chip for _, _, faces, chips, _, _ in found for chip in chips[:len(faces)]]
    vectors = pipeline.embed_chips(np.stack(all_chips)) if all_chips else np.zeros((0, 0), np.float32)
    rows, counts, errors, at = [], [], [], 0
    for (path, size, mtime), shape, faces, chips, thumbs, error in found:
        base = {"path": path, "size": size, "mtime_ns": mtime, "error": error,
                "width": None if shape is None else int(shape[1]), "height": None if shape is None else int(shape[0])}
        if not faces:
            rows.append(base | {"face": -1})
        for j, (face, chip, thumb) in enumerate(zip(faces, chips, thumbs)):
            rows.append(base | {"face": j, "left": int(face.box[0]), "top": int(face.box[1]),
                                "right": int(face.box[2]), "bottom": int(face.box[3]), "score": float(face.score),
                                "sharpness": sharpness(chip), "thumbnail": thumb,
                                "landmarks": np.asarray(face.landmarks, np.float32).ravel().tolist(),
                                "embedding": np.asarray(vectors[at + j], np.float32).tolist()})
        at += len(faces)
        counts.append(len(faces))
        errors.append(error)
    return rows, counts, errors
