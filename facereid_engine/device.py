"""The torch device the engine runs on: CUDA when available, else CPU; ``FACEREID_DEVICE`` overrides."""
from __future__ import annotations

import os
from functools import lru_cache

import torch


@lru_cache(maxsize=None)
def best_device() -> torch.device:
    wanted = os.environ.get("FACEREID_DEVICE", "").strip()
    if wanted:
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def device_name(device: torch.device | None = None) -> str:
    """Words for the status bar: ``CPU (2 threads)``, ``CPU (1 thread)`` or the GPU's name."""
    device = device or best_device()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
