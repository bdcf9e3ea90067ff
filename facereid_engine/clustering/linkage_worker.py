"""A grouping worker process (see :mod:`.parallel`): ``python .../clustering/linkage_worker.py``.

Run as a file it imports NumPy and the sibling :mod:`.linkage` only, not the engine (nor torch).
Arrays travel on the pipes as a JSON line (dtype, shape) and their bytes: no pickles.
"""
from __future__ import annotations

import json
import sys

import numpy as np

try:
    from .linkage import MergeRules, agglomerate
except ImportError:              # run as a file: this folder is on sys.path
    from linkage import MergeRules, agglomerate


def _write(stream, array: np.ndarray) -> None:
    """An array on a pipe: a JSON line (dtype, shape), then its bytes. (``np.load`` may read a pipe's
    descriptor behind its buffer's back.)"""
    array = np.asarray(array, order="C")      # (ascontiguousarray would make a 0-d array 1-d)
    stream.write(json.dumps({"dtype": array.dtype.str, "shape": array.shape}).encode() + b"\n")
    stream.write(array.tobytes())


def _read(stream) -> np.ndarray:
    head = json.loads(stream.readline())
    dtype = np.dtype(head["dtype"])
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ValueError(f"unexpected array type {dtype}")
    size = dtype.itemsize * int(np.prod(head["shape"], dtype=np.int64))
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("a grouping worker's pipe ended early")
    return np.frombuffer(data, dtype).reshape(tuple(head["shape"])).copy()


def main() -> None:
    """One part: read the header and arrays on stdin, agglomerate, write the labels and cut on stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    header = json.loads(stdin.readline())
    arrays = [_read(stdin) for _ in range(5)]     # vectors, edges, labels, anchor, cannot

    def global_cut(left: int) -> float:
        stdout.write(json.dumps({"left": int(left)}).encode() + b"\n")
        stdout.flush()
        return float(json.loads(stdin.readline())["cut"])

    rules = MergeRules(header["threshold"], global_cut if header["adaptive"] else header["pair"], header["count_at"],
                       header["spread_ratio"], header["spread_min"])
    # The vectors leave the list: only agglomerate holds them, and lets them go once summed.
    result, cut = agglomerate(arrays.pop(0), *arrays[:3], rules, arrays[3])
    _write(stdout, result)
    _write(stdout, np.array(cut, np.float64))
    stdout.flush()


if __name__ == "__main__":
    main()
