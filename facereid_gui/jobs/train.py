"""Worker-side work of the Train page: read the training data and train, then save the model."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainRequest:
    """What the user asked for: data source, base encoder and training settings."""

    kind: str  # "pairs", "identities" or "people"
    path: str
    images: str
    base: str
    method: str
    seed: int
    epochs: int | None


def training_job(request: TrainRequest):
    """Generator: read the data (checked before any work), then train; returns a TrainResult."""
    from facereid_engine.progress import Progress
    from facereid_engine.training import TrainConfig, load_training_data, train

    yield Progress(0, 1, "reading the training data", {"stage": "read"})
    source = {request.kind: request.path}
    data = load_training_data(**source, images=request.images or None)
    config = TrainConfig(method=request.method, seed=request.seed, epochs=request.epochs)
    return (yield from train(data, request.base, config))


def save_job(result, name: str):
    """Save the model; returns its encoder name and the engine's new EngineInfo (for every page)."""
    from facereid_engine.training import save_trained

    from .startup import engine_info

    full = save_trained(result, name)
    return full, engine_info()
