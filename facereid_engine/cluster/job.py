"""Indexing a photo folder on a Ray cluster: Ray Data over a pool of model-holding actors.

The driver lists the photos (the walk of a single-machine scan: same paths, each file once), drops
those the index already holds (same path, size and modification time), and hands the rest to Ray
Data as a dataset of (path, size, mtime). ``map_batches`` runs :class:`~.worker.IndexWorker` in a pool
of actors — one per GPU where the cluster has GPUs, else one per ``threads`` CPUs — each loading the
models once; every batch becomes one Parquet shard. Ray restarts a dead actor and runs its batch
again (``max_restarts``, ``max_task_retries``): the shard is written whole or not at all, under a
name given by its photos, so nothing is lost and nothing counted twice. A rerun continues.

The photos must be readable under the same path on every node (a shared or network file system).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from ..errors import FaceReIDError
from ..folders import still_there
from ..library.scanning import ScanError, ScanSettings, find_photos
from ..library.types import PhotoError
from ..progress import Progress, Work
from .shards import done_photos, open_index
from .worker import IndexWorker

DEFAULT_BATCH = 16
MAX_BLOCKS = 4096      # Ray Data blocks of the photo list (each holds whole batches)


class RayUnavailableError(FaceReIDError):
    """Ray is not installed, or the cluster cannot be reached."""


@dataclass
class IndexResult:
    """What an indexing run did."""

    folder: str
    out: str
    photos: int = 0          # photo files found
    skipped: int = 0         # already in the index, unchanged
    indexed: int = 0         # indexed by this run
    faces: int = 0           # faces found by this run
    errors: list[PhotoError] = field(default_factory=list)
    workers: int = 0
    device: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.indexed / self.seconds if self.seconds else 0.0
        text = (f"{self.photos} photos in {self.folder}: {self.indexed} indexed, {self.skipped} already in the "
                f"index; {self.faces} faces found")
        if self.errors:
            text += f"; {len(self.errors)} could not be read"
        if not self.workers:
            return text + f" ({self.seconds:.1f} s)."
        return text + f" ({self.workers} {self.device} workers, {self.seconds:.1f} s, {rate:.2f} photos/s)."


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise RayUnavailableError("indexing on a cluster needs Ray: pip install 'facereid[cluster]'") from None
    return ray


def connect(address: str | None, cpus: int | None = None) -> bool:
    """Join the cluster at ``address`` (``local``: start one on this machine; None: the one this
    process already joined). Returns whether this call connected (and so should disconnect)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    if address is None:
        raise RayUnavailableError("Ray is not started: give an address or 'local'")
    options = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        if address == "local":
            ray.init(num_cpus=cpus, **options)
        else:
            ray.init(address=address, **options)
    except Exception as exc:  # noqa: BLE001 - one clear line
        raise RayUnavailableError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    return True


def index_work(photo_dir: str | os.PathLike, out: str | os.PathLike, *, ray_address: str | None = "local",
               settings: ScanSettings | None = None, batch_size: int = DEFAULT_BATCH, workers: int | None = None,
               threads: int = 1, cpus: int | None = None) -> Work[IndexResult]:
    """Generator: index ``photo_dir`` into the index folder ``out`` on Ray; yields progress per
    photo, returns :class:`IndexResult`. ``settings``: encoder, detector, max_side and upsample, as
    a scan takes them; ``workers``: actors (default: the cluster's GPUs, else its CPUs / ``threads``)."""
    settings = settings or ScanSettings()
    start = time.perf_counter()
    root = os.path.realpath(photo_dir)
    if not os.path.isdir(root):
        raise ScanError(root, "not a folder" if os.path.exists(root) else "folder not found")
    out = os.path.abspath(out)
    if out == root or out.startswith(root + os.sep):
        raise ScanError(root, "the index cannot be written inside the photo folder (it is read only)")
    yield Progress(0, 0, f"looking for photos in {root}")
    files, _ = find_photos(root)
    open_index(out, {"root": root, "encoder": settings.encoder, "detector": settings.detector})
    done = done_photos(out)
    result = IndexResult(folder=root, out=out, photos=len(files))
    todo = []
    for path, st in still_there(files):
        if (path, st.st_size, st.st_mtime_ns) in done:
            result.skipped += 1
        else:
            todo.append({"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    yield Progress(0, len(todo), f"{len(todo)} photos to index, {result.skipped} already in the index")
    if todo:
        yield from _run(result, todo, ray_address, settings, batch_size, workers, threads, cpus)
    result.seconds = time.perf_counter() - start
    return result


def _run(result: IndexResult, todo: list[dict], address, settings: ScanSettings, batch_size: int,
         workers: int | None, threads: int, cpus: int | None) -> Work[None]:
    ray = _ray()
    started = connect(address, cpus)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        n = workers or (gpus if gpus else max(1, int(resources.get("CPU", 1)) // max(1, threads)))
        n = max(1, min(n, -(-len(todo) // batch_size)))
        result.workers, result.device = n, "GPU" if gpus else "CPU"
        per_actor = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": threads}
        blocks = min(-(-len(todo) // batch_size), MAX_BLOCKS)   # a retried block redoes its batches' shards, same names
        dataset = ray.data.from_items(todo, override_num_blocks=blocks)
        summaries = dataset.map_batches(
            IndexWorker, batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=n),
            fn_constructor_kwargs=dict(out=result.out, encoder=settings.encoder, face_detector=settings.face_detector,
                                       max_side=settings.max_side, upsample=settings.upsample, threads=threads),
            **per_actor)   # Ray Data restarts dead actors and retries their batches by default
        for batch in summaries.iter_batches(batch_size=None, batch_format="numpy"):
            for path, faces, error in zip(batch["path"], batch["faces"], batch["error"]):
                result.indexed += 1
                result.faces += int(faces)
                if error:
                    result.errors.append(PhotoError(str(path), str(error)))
                yield Progress(result.indexed, len(todo), str(path),
                               {"faces": result.faces, "errors": len(result.errors)})
    finally:
        if started:
            ray.shutdown()
