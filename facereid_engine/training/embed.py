"""The frozen base encoder's embeddings of the training images, through the face pipeline and the
evaluation's on-disk cache (so training, ``facereid eval`` and a second training run share them)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..evaluation.embedding_cache import embed_image_files
from ..progress import Progress, Work


def embed_images(paths: Sequence[str | os.PathLike], base: str, *, flip: bool = False,
                 face_choice: str = "centre") -> Work[np.ndarray]:
    """(N, dim) float32 embeddings of one face per image (the face nearest the centre, as LFW wants).

    Yields ``Progress(info={"stage": "embed", ...})``; raises ModelUnavailableError before any image is read.
    """
    from ..pipeline import FacePipeline
    pipeline = FacePipeline(base)
    _ = pipeline.encoder  # an unavailable model fails here, before any work
    work = embed_image_files(paths, pipeline, flip=flip, face_choice=face_choice)
    try:
        while True:
            event = next(work)
            yield Progress(event.done, event.total, f"embedding: {event.message}", {**event.info, "stage": "embed"})
    except StopIteration as stop:
        return stop.value.vectors
    finally:
        work.close()
