"""FaceReID beyond one machine: index an archive of photos on a Ray cluster (the ``cluster`` extra).

``facereid index PHOTO_DIR --out DIR --ray ADDRESS|local`` runs :func:`index_work`: Ray Data hands
batches of photos to a pool of model-holding actors (:mod:`.worker`), which write the faces as
Parquet shards (:mod:`.shards`); ``facereid albums --import-index DIR`` brings the index into a
library and groups it (:mod:`facereid_engine.library.index_import`).

Nothing here imports Ray until a job starts: the core install stays free of it.
"""
from __future__ import annotations

from .job import IndexResult, RayUnavailableError, connect, index_work

__all__ = ["IndexResult", "RayUnavailableError", "connect", "index_work"]
