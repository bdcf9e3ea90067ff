"""Choose the fused encoder's dlib weight on LFW View 1 ``pairsDevTrain.txt`` only, and record it.

The fused cosine distance of a pair is exactly ``w * d_dlib + (1 - w) * d_sface`` (cosine distances
of the two encoders), so any weight can be scored from the two encoders' distances.

The rule is the one the SFace issue measured with: standardise each encoder's distances and give the
two standardised scores equal weight. Subtracting a mean changes no ranking, so equal weights after
dividing by the standard deviations ``s_dlib`` and ``s_sface`` (over the 2,200 training pairs) is the
weight ``w = s_sface / (s_dlib + s_sface)`` on the raw distances.

Why not the weight with the best training accuracy: on 2,200 pairs that accuracy is flat (0.9968 to
0.9977 for every weight from 0.4 to 0.9, a difference of two pairs), so its maximum is chosen by noise.
The standard deviations are averages over all 2,200 pairs and hardly move between samples. The
accuracy of every weight on the grid is still printed and recorded for comparison.

Run: ``.venv/bin/python benchmarks/choose_fused_weight.py [--detector mmod] [--write]``
"""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from _common import LFW, report

THRESHOLDS = Path(__file__).resolve().parents[1] / "facereid_engine" / "data" / "thresholds.json"


def standardised_weight(d_dlib: np.ndarray, d_sface: np.ndarray) -> float:
    """dlib's weight that gives the two standardised distances equal shares (rounded to 0.01)."""
    s_dlib, s_sface = float(np.std(d_dlib)), float(np.std(d_sface))
    return round(s_sface / (s_dlib + s_sface), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="mmod", choices=("mmod", "yunet"))
    ap.add_argument("--step", type=float, default=0.05)
    ap.add_argument("--write", action="store_true", help="record the chosen weight in thresholds.json")
    ap.add_argument("--out")
    args = ap.parse_args()
    from facereid_engine.evaluation.metrics import auc, best_threshold
    from facereid_engine.evaluation.pairsets import read_pairs_file
    from facereid_engine.evaluation.runner import evaluate
    from facereid_engine.progress import run

    pairs = read_pairs_file(LFW / "pairsDevTrain.txt", LFW / "images")
    evaluation = run(evaluate(pairs, ["dlib", "sface"], ["cosine"], detector=args.detector))
    d_dlib = evaluation.results["dlib"]["cosine"].distances
    d_sface = evaluation.results["sface"]["cosine"].distances
    same = evaluation.results["dlib"]["cosine"].same
    weight = standardised_weight(d_dlib, d_sface)
    grid = sorted({*np.round(np.arange(0.0, 1.0 + 1e-9, args.step), 4).tolist(), weight})
    accuracy = {float(w): best_threshold(w * d_dlib + (1 - w) * d_sface, same)[1] for w in grid}
    area = {float(w): auc(w * d_dlib + (1 - w) * d_sface, same) for w in grid}
    payload = {"pairs": "pairsDevTrain.txt", "detector": args.detector, "weight": weight,
               "std_dlib": float(np.std(d_dlib)), "std_sface": float(np.std(d_sface)),
               "train_accuracy": accuracy[weight], "train_accuracy_by_weight": accuracy,
               "train_auc_by_weight": area}
    report("choose_fused_weight", payload, args.out)
    if args.write:
        table = json.loads(THRESHOLDS.read_text())
        table.setdefault("parameters", {}).setdefault("fused", {})["dlib_weight"] = {
            "value": weight, "source": "LFW View 1 pairsDevTrain.txt (2,200 pairs): the cosine distances of dlib "
            "and sface, each standardised (divided by its standard deviation over the pairs) and given equal "
            "weight, i.e. w = std(sface) / (std(dlib) + std(sface)), rounded to 0.01",
            "command": f"benchmarks/choose_fused_weight.py --detector {args.detector} --write",
            "std_dlib": payload["std_dlib"], "std_sface": payload["std_sface"],
            "train_accuracy": accuracy[weight], "date": date.today().isoformat()}
        THRESHOLDS.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
