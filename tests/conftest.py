"""Shared fixtures: real data from ../shared/data, a private FACEREID_HOME per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACEREID_DATA", ROOT.parent / "shared" / "data")).resolve()
LFW = DATA / "lfw"
LFW_IMAGES = LFW / "images"
GROUP = DATA / "group_photos"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Before torch is imported anywhere: torch threads that sleep while waiting (see facereid_engine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def lfw_image(name: str, number: int) -> Path:
    """Path of LFW image ``<name>_<number:04d>.jpg``."""
    return LFW_IMAGES / name / f"{name}_{number:04d}.jpg"


@pytest.fixture(scope="session", autouse=True)
def _facereid_home(tmp_path_factory):
    """Everything FaceReID writes during the tests goes to a temporary directory."""
    home = tmp_path_factory.mktemp("facereid-home")
    old = os.environ.get("FACEREID_HOME")
    os.environ["FACEREID_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("FACEREID_HOME", None)
    else:
        os.environ["FACEREID_HOME"] = old


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"test data not found at {DATA} (set FACEREID_DATA)")
    return DATA
