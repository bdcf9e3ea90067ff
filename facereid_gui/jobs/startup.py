"""Run once in the worker when the window has shown: import the engine, name the device, load models."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class ModelInfo:
    name: str
    role: str
    description: str
    licence: str


@dataclass
class EngineInfo:
    device: str  # words for the status bar: the GPU's name, or "CPU (n threads)"
    encoders: list[str]  # every encoder name, in the registry's order
    models: list[ModelInfo] = field(default_factory=list)  # the models every encoder shares (detector, landmarks)
    cards: list = field(default_factory=list)  # every encoder's EncoderCard, usable or not
    threads_note: str = ""  # how many CPU threads the engine uses, and why (a few words)
    threads: int = 0  # torch's intra-op threads as the engine's worker thread sees them (OpenMP's is per thread)

    def unavailable(self) -> dict[str, str]:
        """Encoders that cannot be used here, with the reason (from their cards)."""
        return {c.name: c.unavailable for c in self.cards if c.unavailable}

    def card(self, name: str):
        """The EncoderCard of ``name``, or None when the engine did not list it."""
        return next((c for c in self.cards if c.name == name), None)


# The models used whatever the encoder (their licences are dlib's).
FIXED_MODELS = [
    ModelInfo("mmod_human_face_detector", "face detector",
              "dlib's CNN face detector (MMOD), ported to PyTorch", "Public domain (dlib-models)"),
    ModelInfo("face_detection_yunet_2023mar_int8bq", "face detector (the other choice)",
              "OpenCV Zoo's YuNet, ported to PyTorch: faster, finds profiles, gives five keypoints",
              "Apache-2.0 (OpenCV Zoo)"),
    ModelInfo("shape_predictor_5_face_landmarks", "landmarks",
              "dlib's 5-point face landmark predictor", "Public domain (dlib-models)"),
]


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, which containers and ``taskset`` narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def engine_threads(cores: int, environ=os.environ) -> tuple[int, str]:
    """(CPU threads for the engine, why, in a few words) with ``cores`` cores: all but one, so that the
    window stays responsive while the engine works, unless the user chose with ``OMP_NUM_THREADS``."""
    chosen = environ.get("OMP_NUM_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) >= 1:
        threads = int(chosen)
        return threads, f"{_threads(threads)}, as OMP_NUM_THREADS={chosen} asks"
    if cores <= 1:
        return 1, "1 thread on the only core"
    return cores - 1, f"{_threads(cores - 1)} of {cores} cores, one core left for the window"


def _threads(n: int) -> str:
    return f"{n} thread{'s' if n != 1 else ''}"


def leave_a_core_for_the_window() -> str:
    """Let torch use all CPU cores but one (see :func:`engine_threads`); returns the words that say so."""
    import torch

    threads, why = engine_threads(available_cores())
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return why


def engine_info() -> EngineInfo:
    """The device's name, the encoders' cards (no weights are loaded) and the shared models."""
    why = leave_a_core_for_the_window()
    from facereid_engine.device import best_device, device_name
    from facereid_engine.encoders import cards

    every = cards()
    import_what_the_window_uses()
    device = device_name() if best_device().type == "cuda" else f"CPU, {why}"
    import torch

    return EngineInfo(device, [c.name for c in every], list(FIXED_MODELS), every, why, torch.get_num_threads())


def import_what_the_window_uses() -> None:
    """Import (and read the data of) the engine modules the pages call from the UI thread, here in the
    worker: an import in the UI thread compiles and runs the module there (and PySide's import hook
    reads its source), a stall of the window that a user can see the first time."""
    import facereid_engine.distances  # noqa: F401
    import facereid_engine.errors  # noqa: F401
    import facereid_engine.evaluation.metrics  # noqa: F401
    import facereid_engine.thresholds  # noqa: F401
    from facereid_engine.defaults import DEFAULT_ENCODER
    from facereid_engine.evaluation.reference_distances import reference_histogram

    reference_histogram(DEFAULT_ENCODER, "euclidean")  # reads the LFW histograms Compare draws, once


def load_default_models() -> None:
    """Load the detector, the landmark predictor and the default encoder (so the first photo is
    quick), and import the engine modules the pages need."""
    from facereid_engine.encoders import DEFAULT_ENCODER
    from facereid_engine.pipeline import get_pipeline

    parse_landmarks_in_another_process()
    pipeline = get_pipeline(DEFAULT_ENCODER)
    _ = pipeline.detector, pipeline.shape_predictor, pipeline.encoder
    # The modules the pages use later, imported here: an import holds the GIL while extension
    # modules initialise, which must not happen in the middle of the user's work.
    import facereid_engine.evaluation.charts  # noqa: F401 (matplotlib)
    import facereid_engine.evaluation.runner  # noqa: F401
    import facereid_engine.library.grouping  # noqa: F401
    import facereid_engine.library.scanning  # noqa: F401
    import matplotlib.figure  # noqa: F401


def parse_landmarks_in_another_process() -> None:
    """The first time (no parsed copy in the cache yet), parse dlib's landmark model file in a child
    process, which writes the parsed copy to the cache; the worker then reads that copy.

    Parsed here, the 9 MB file held the GIL for 0.5 s on end (a regex over the whole file, then
    one ``bytes()`` call over 3 million tokens), a stall of the window whatever it was doing (on a
    busy 2-core machine, 1.15 s in the middle of the first scan); a child process has its own GIL,
    and this thread waits for it without holding ours. Any failure: the worker parses it itself."""
    from facereid_engine.landmarks import model_file
    from facereid_engine.landmarks.predictor import MODEL_FILE
    from facereid_engine.paths import dlib_model_path

    try:
        cached = model_file.cache_path(dlib_model_path(MODEL_FILE)).is_file()
    except Exception:  # no model file, no cache folder: the loader says why, later
        return
    if cached:
        return
    code = "from facereid_engine.landmarks.predictor import load_shape_predictor; load_shape_predictor()"
    try:
        subprocess.run([sys.executable, "-c", code], check=False, timeout=300, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        pass
