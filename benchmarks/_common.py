"""Shared bits of the benchmarks: data paths, timing, JSON output."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the engine sets it; before torch loads
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("FACEREID_DATA", ROOT.parent / "shared" / "data")).resolve()
LFW = DATA / "lfw"
GROUP = DATA / "group_photos"


def timed(fn, *args, repeat: int = 1, **kwargs):
    """(best seconds of ``repeat`` runs, last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def report(name: str, payload: dict, out: str | None = None) -> None:
    text = json.dumps(payload, indent=2)
    print(text)
    if out:
        Path(out).write_text(text + "\n")
        print(f"{name}: written to {out}", file=sys.stderr)
