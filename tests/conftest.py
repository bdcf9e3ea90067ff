"""Shared fixtures: real data from ../shared/data, a private FACEREID_HOME per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_paths import DATA

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Before torch is imported anywhere: torch threads that sleep while waiting (see facereid_engine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
