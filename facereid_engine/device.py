"""The torch device the engine runs on: CUDA when available, else CPU; ``FACEREID_DEVICE`` overrides."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

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


@contextmanager
def full_fp32(device: torch.device):
    """On CUDA, convolve and multiply in full float32 (not TF32) while the block runs.

    TF32 moves scores by ~1e-3 (it can flip a detection) and descriptors by far more than the
    1e-4 the ports promise against their reference runtimes. A no-op on the CPU.
    """
    if device.type != "cuda":
        yield
        return
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        matmul = torch.backends.cuda.matmul
        old = conv.fp32_precision, matmul.fp32_precision
        conv.fp32_precision = matmul.fp32_precision = "ieee"
        try:
            yield
        finally:
            conv.fp32_precision, matmul.fp32_precision = old
    else:  # older torch
        old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


T = TypeVar("T")


def per_device(build: Callable[[torch.device], T]) -> Callable[..., T]:
    """A loader ``load(device=None)`` that builds one object per device (``build(device)``; default
    device: :func:`best_device`) on first use and keeps it, so each model loads once per device."""
    made: dict[str, T] = {}
    lock = threading.Lock()

    def load(device: torch.device | str | None = None) -> T:
        dev = torch.device(device) if device is not None else best_device()
        with lock:
            if str(dev) not in made:
                made[str(dev)] = build(dev)
            return made[str(dev)]

    load.__doc__ = f"{build.__doc__ or ''} Built once per device and kept.".strip()
    return load
