"""A scan holds at most READ_AHEAD_BYTES of decoded photos ahead of the one it processes."""
from __future__ import annotations

import weakref

import numpy as np
import pytest
from PIL import Image

from facereid_engine.library import Library
from facereid_engine.library import scanning
from facereid_engine.library.scanning import ScanSettings
from facereid_engine.progress import run


@pytest.fixture
def big_photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):  # 800x600: 1.4 MB each once decoded; no faces (noise)
        Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)).save(folder / f"p{i}.jpg")
    return folder


def _peak_held(monkeypatch, folder, library, budget: int) -> int:
    """Most decoded photos alive at once while the scan decodes (the real decoder, watched)."""
    alive: list[weakref.ref] = []
    peak = [0]
    real = scanning._load

    def watched(path):
        image = real(path)
        if isinstance(image, np.ndarray):
            alive.append(weakref.ref(image))
        peak[0] = max(peak[0], sum(ref() is not None for ref in alive))
        return image

    monkeypatch.setattr(scanning, "_load", watched)
    monkeypatch.setattr(scanning, "READ_AHEAD_BYTES", budget)
    with Library(library) as lib:
        result = run(lib.scan_work(folder, ScanSettings(decode_ahead=3, group=False)))
    assert result.new == 4 and result.errors == []
    return peak[0]


def test_read_ahead_stops_at_the_memory_budget(monkeypatch, big_photos, tmp_path):
    one_photo = 3 * 800 * 600
    assert _peak_held(monkeypatch, big_photos, tmp_path / "a.sqlite", budget=one_photo) <= 2
    assert _peak_held(monkeypatch, big_photos, tmp_path / "b.sqlite", budget=10 * one_photo) >= 3
