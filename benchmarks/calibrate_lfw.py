"""Write the engine's calibrated thresholds and LFW reference histograms from ``facereid eval --json`` output.

    facereid eval --pairs LFW/pairsDevTest.txt --train-pairs LFW/pairsDevTrain.txt --json > view1.json
    facereid eval --pairs LFW/pairs.txt --json > view2.json
    .venv/bin/python benchmarks/calibrate_lfw.py --view1 view1.json --view2 view2.json

Thresholds (``facereid_engine/data/thresholds.json``) are the ones chosen on pairsDevTrain.txt (View 1);
pairsDevTest.txt's accuracy at them and View 2's 10-fold accuracy are recorded beside them. The
histograms (``facereid_engine/data/lfw_distances.json``) are View 2's 6,000 pair distances.
Other encoders' entries in the files are kept.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "facereid_engine" / "data"


def _load(path: str) -> dict:
    """An eval JSON, its command's paths made relative to the repository (``../shared/data/...``)."""
    result = json.loads(Path(path).read_text())
    result["command"] = result["command"].replace(str(DATA.parents[2]) + "/", "../")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--view1", required=True, help="JSON of eval --pairs pairsDevTest.txt --train-pairs pairsDevTrain.txt")
    parser.add_argument("--view2", required=True, help="JSON of eval --pairs pairs.txt (10 folds)")
    args = parser.parse_args()
    view1, view2 = _load(args.view1), _load(args.view2)
    if view1["train_pairs"] is None or not view1["train_pairs"]["source"].endswith("pairsDevTrain.txt"):
        raise SystemExit("--view1 must be a run with --train-pairs pairsDevTrain.txt")
    if view2["n_folds"] != 10:
        raise SystemExit("--view2 must be the 10-fold pairs.txt run")

    thresholds_path = DATA / "thresholds.json"
    table = json.loads(thresholds_path.read_text())
    for encoder, by_distance in view1["results"].items():
        entries = table["thresholds"].setdefault(encoder, {})
        for distance, r in by_distance.items():
            if r["protocol"] != "train-test":
                raise SystemExit(f"{encoder}/{distance}: expected the train-test protocol, got {r['protocol']}")
            v2 = view2["results"].get(encoder, {}).get(distance)
            entries[distance] = {
                "value": r["thresholds"][0],
                "provisional": False,
                "source": "best threshold on LFW View 1 pairsDevTrain.txt (2,200 pairs), deep-funneled images, "
                          "'facereid eval' (face nearest the centre, no flip)",
                "command": view1["command"],
                "date": view1["finished"][:10],
                "pairs": "pairsDevTrain.txt",
                "train_accuracy": r["train_accuracies"][0],
                "pairsDevTest_accuracy": r["accuracy_mean"],
                **({"lfw_10fold_accuracy_mean": v2["accuracy_mean"], "lfw_10fold_accuracy_std": v2["accuracy_std"],
                    "lfw_10fold_command": view2["command"]} if v2 else {}),
            }
            if encoder == "dlib" and distance == "euclidean":
                entries[distance]["note"] = "dlib's own published rule is 0.6 (dnn_face_recognition_ex.cpp)"
    table["about"] = ("Default same-person thresholds (same person when distance <= threshold) per encoder and "
                      "distance. Calibrated values are chosen on LFW View 1 (pairsDevTrain.txt) by "
                      "benchmarks/calibrate_lfw.py from 'facereid eval' output; 'provisional' values are guesses.")
    thresholds_path.write_text(json.dumps(table, indent=2) + "\n")

    reference_path = DATA / "lfw_distances.json"
    reference = json.loads(reference_path.read_text()) if reference_path.is_file() else {}
    reference["about"] = ("Matched and mismatched pair distances on LFW View 2 (pairs.txt, 3,000 + 3,000 pairs, "
                          "deep-funneled images): counts on shared bin edges, per encoder and distance. Compare "
                          "shows where one distance falls against them.")
    histograms = reference.setdefault("histograms", {})
    for encoder, by_distance in view2["results"].items():
        histograms[encoder] = {d: {**r["histogram"], "threshold_mean": r["threshold_mean"],
                                   "command": view2["command"], "date": view2["finished"][:10],
                                   "flip": view2["flip"]}
                               for d, r in by_distance.items()}
    reference["produced_by"] = {"pairs": "LFW pairs.txt (View 2)", "script": "benchmarks/calibrate_lfw.py"}
    reference_path.write_text(json.dumps(reference, separators=(",", ":")) + "\n")
    print(f"wrote {thresholds_path} and {reference_path}")


if __name__ == "__main__":
    main()
