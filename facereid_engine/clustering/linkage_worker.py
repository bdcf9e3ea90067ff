"""A grouping worker process (see :mod:`.parallel`): ``python -m facereid_engine.clustering.linkage_worker``."""
from __future__ import annotations

import json
import sys

import numpy as np

from .linkage import MergeRules, agglomerate
from .parallel import _read, _write


def main() -> None:
    """One part: read the header and arrays on stdin, agglomerate, write the labels and cut on stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    header = json.loads(stdin.readline())
    vectors, edges, labels, anchor, cannot = (_read(stdin) for _ in range(5))

    def global_cut(left: int) -> float:
        stdout.write(json.dumps({"left": int(left)}).encode() + b"\n")
        stdout.flush()
        return float(json.loads(stdin.readline())["cut"])

    rules = MergeRules(header["threshold"], global_cut if header["adaptive"] else header["pair"], header["count_at"],
                       header["spread_ratio"], header["spread_min"])
    result, cut = agglomerate(vectors, edges, labels, anchor, rules, cannot)
    _write(stdout, result)
    _write(stdout, np.array(cut, np.float64))
    stdout.flush()


if __name__ == "__main__":
    main()
