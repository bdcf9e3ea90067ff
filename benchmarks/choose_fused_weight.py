"""Choose the fused encoder's dlib weight on LFW View 1 ``pairsDevTrain.txt`` only, and record it.

The fused cosine distance of a pair is exactly ``w * d_dlib + (1 - w) * d_sface`` (cosine distances
of the two encoders), so every weight is scored from the two encoders' distances on the training
pairs: for each ``w`` on a grid, the accuracy at the best threshold on those same 2,200 pairs. The
best weight (ties: the one nearest 0.5) goes into ``facereid_engine/data/thresholds.json`` under
``parameters.fused.dlib_weight``; the thresholds themselves come afterwards from ``facereid eval``
with the fused encoder (``calibrate_lfw.py``), at that weight.

Run: ``.venv/bin/python benchmarks/choose_fused_weight.py [--detector yunet] [--write]``
"""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from _common import LFW, report

THRESHOLDS = Path(__file__).resolve().parents[1] / "facereid_engine" / "data" / "thresholds.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="yunet", choices=("mmod", "yunet"))
    ap.add_argument("--step", type=float, default=0.05)
    ap.add_argument("--write", action="store_true", help="record the chosen weight in thresholds.json")
    ap.add_argument("--out")
    args = ap.parse_args()
    from facereid_engine.evaluation.metrics import best_threshold
    from facereid_engine.evaluation.pairsets import read_pairs_file
    from facereid_engine.evaluation.runner import evaluate
    from facereid_engine.progress import run

    pairs = read_pairs_file(LFW / "pairsDevTrain.txt", LFW / "images")
    evaluation = run(evaluate(pairs, ["dlib", "sface"], ["cosine"], detector=args.detector))
    d_dlib = evaluation.results["dlib"]["cosine"].distances
    d_sface = evaluation.results["sface"]["cosine"].distances
    same = evaluation.results["dlib"]["cosine"].same
    grid = np.round(np.arange(0.0, 1.0 + 1e-9, args.step), 4)
    scores = {float(w): best_threshold(w * d_dlib + (1 - w) * d_sface, same)[1] for w in grid}
    best = max(scores.values())
    weight = min((w for w, a in scores.items() if a == best), key=lambda w: (abs(w - 0.5), w))
    payload = {"pairs": "pairsDevTrain.txt", "detector": args.detector, "weight": weight,
               "train_accuracy": best, "accuracy_by_weight": scores}
    report("choose_fused_weight", payload, args.out)
    if args.write:
        table = json.loads(THRESHOLDS.read_text())
        table.setdefault("parameters", {}).setdefault("fused", {})["dlib_weight"] = {
            "value": weight, "source": "best accuracy on LFW View 1 pairsDevTrain.txt (2,200 pairs) of "
            "w * cosine(dlib) + (1 - w) * cosine(sface), ties to the weight nearest 0.5",
            "command": f"benchmarks/choose_fused_weight.py --detector {args.detector} --write",
            "train_accuracy": best, "date": date.today().isoformat()}
        THRESHOLDS.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
