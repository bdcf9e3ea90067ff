"""The engine's defaults, in a module light enough for anything to import (no torch).

Measured choices: see the README's "Accuracy" and "Speed" sections and the benchmarks they cite.
"""
from __future__ import annotations

#: The encoder used when none is named (Compare, verify, new libraries, eval, train's base).
DEFAULT_ENCODER = "fused"

#: Face detectors: dlib's MMOD CNN (exact to dlib) and OpenCV Zoo's YuNet.
DETECTORS = ("mmod", "yunet")
DEFAULT_DETECTOR = "mmod"
