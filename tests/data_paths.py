"""Where the tests' real data lives: ``../shared/data`` next to the checkout, or ``$FACEREID_DATA``."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACEREID_DATA", ROOT.parent / "shared" / "data")).resolve()
LFW = DATA / "lfw"
LFW_IMAGES = LFW / "images"
GROUP = DATA / "group_photos"


def lfw_image(name: str, number: int) -> Path:
    """Path of LFW image ``<name>_<number:04d>.jpg``."""
    return LFW_IMAGES / name / f"{name}_{number:04d}.jpg"
