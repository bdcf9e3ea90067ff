"""Fine-tuning on LFW View 1: train on pairsDevTrain.txt, test once on pairsDevTest.txt.

For the base encoder (default ``dlib``) it reports, on the 1,000 test pairs:
- the plain distance at its calibrated default threshold (``thresholds.json``) and at the threshold
  chosen on all of pairsDevTrain (the train-test protocol of ``facereid eval --train-pairs``);
- the pair classifier (its own decisions, probability >= 0.5);
- the metric head, at the threshold calibrated on its validation split (what a user gets) and at the
  threshold chosen on all of pairsDevTrain (the same protocol as the plain distance);
- the study's concatenation classifier (no weight decay, no early stopping) and the same classifier
  with weight decay and early stopping, as the baseline it was.
Each method is trained with several seeds (mean, std, min); seed 0 is also reported alone. A control
("distorted"): the same embeddings with every dimension rescaled by a fixed random factor (seeded), a
stand-in for a worse encoder, shows what the heads learn when the distance leaves room. Speed: the
training time of each method as a ratio of the time to embed the images (measured in the same run;
the embeddings come from the shared cache after the first run, so ``embed_seconds`` is then small).

Run: ``.venv/bin/python benchmarks/bench_training_lfw.py [--seeds 5] [--base dlib] [--out FILE]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _common import LFW, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", default="dlib")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()

    from facereid_engine.distances import paired
    from facereid_engine.evaluation.embedding_cache import embed_image_files
    from facereid_engine.evaluation.metrics import accuracy_at, best_threshold
    from facereid_engine.evaluation.pairsets import read_pairs_file
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.progress import run
    from facereid_engine.thresholds import default_threshold
    from facereid_engine.training import TrainConfig, load_training_data, train
    from facereid_engine.training.heads import MetricHead, pair_logits

    train_file, test_file = LFW / "pairsDevTrain.txt", LFW / "pairsDevTest.txt"
    train_pairs = read_pairs_file(train_file, LFW / "images")
    test_pairs = read_pairs_file(test_file, LFW / "images")
    data = load_training_data(pairs=train_file, images=LFW / "images")
    images = list(dict.fromkeys([*data.images, *test_pairs.images]))
    row = {p: i for i, p in enumerate(images)}

    start = time.perf_counter()
    embedded = run(embed_image_files(images, FacePipeline(args.base), face_choice="centre"))
    embed_seconds = time.perf_counter() - start
    vectors = embedded.vectors
    train_emb = vectors[[row[p] for p in data.images]]
    tl = np.array([row[test_pairs.images[i]] for i in test_pairs.left])
    tr = np.array([row[test_pairs.images[i]] for i in test_pairs.right])
    same = test_pairs.same
    dl = np.array([row[train_pairs.images[i]] for i in train_pairs.left])
    dr = np.array([row[train_pairs.images[i]] for i in train_pairs.right])

    out: dict = {"base": args.base, "train_pairs": train_pairs.n_pairs, "test_pairs": test_pairs.n_pairs,
                 "images": len(images), "fallback_faces": int(embedded.fallback.sum()),
                 "embed_seconds": round(embed_seconds, 2), "embeddings_from_cache": embedded.cached,
                 "threads": torch.get_num_threads()}
    plain: dict = {}
    for distance in ("euclidean", "euclidean_l2", "cosine"):
        d_test = paired(vectors[tl], vectors[tr], distance)
        t_train, _ = best_threshold(paired(vectors[dl], vectors[dr], distance), train_pairs.same)
        t_default, provisional = default_threshold(args.base, distance)
        plain[distance] = {"accuracy_at_default_threshold": accuracy_at(d_test, same, t_default),
                           "default_threshold": t_default, "default_provisional": provisional,
                           "accuracy_at_train_threshold": accuracy_at(d_test, same, t_train),
                           "train_threshold": t_train}
    out["plain_distance"] = plain

    recipes = {
        "pair": TrainConfig(method="pair"),
        "metric": TrainConfig(method="metric"),
        "concat_study": TrainConfig(method="concat"),
        "concat_regularised": TrainConfig(method="concat", weight_decay=1e-2, patience=10),
    }
    methods: dict = {}
    for label, recipe in recipes.items():
        runs = []
        for seed in range(args.seeds):
            config = TrainConfig(**{**recipe.__dict__, "seed": seed})
            t0 = time.perf_counter()
            result = run(train(data, args.base, config, embeddings=train_emb))
            seconds = time.perf_counter() - t0
            head = result.head
            entry = {"seed": seed, "seconds": round(seconds, 3), "best_epoch": result.best_epoch,
                     "epochs_run": len(result.history) - 1, "val_accuracy": result.val_accuracy,
                     "base_val_accuracy": result.base_val_accuracy}
            if isinstance(head, MetricHead):
                with torch.no_grad():
                    z = head.embed(torch.from_numpy(vectors)).double().numpy()
                d_test = paired(z[tl], z[tr], "euclidean")
                t_train, _ = best_threshold(paired(z[dl], z[dr], "euclidean"), train_pairs.same)
                entry["test_accuracy"] = accuracy_at(d_test, same, result.thresholds["euclidean"])
                entry["test_accuracy_train_threshold"] = accuracy_at(d_test, same, t_train)
                entry["val_threshold"] = result.thresholds["euclidean"]
            else:
                logits = pair_logits(head, vectors[tl], vectors[tr])
                entry["test_accuracy"] = float(((logits > 0) == same).mean())
                swapped = pair_logits(head, vectors[tr], vectors[tl])
                entry["test_accuracy_swapped_order"] = float(((swapped > 0) == same).mean())
                train_logits = pair_logits(head, vectors[dl], vectors[dr])
                entry["train_pairs_accuracy"] = float(((train_logits > 0) == train_pairs.same).mean())
            runs.append(entry)
            print(f"{label} seed {seed}: test {entry['test_accuracy']:.4f} ({seconds:.1f} s)", flush=True)
        acc = np.array([r["test_accuracy"] for r in runs])
        secs = np.array([r["seconds"] for r in runs])
        methods[label] = {"test_accuracy_seed0": float(acc[0]), "test_accuracy_mean": float(acc.mean()),
                          "test_accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                          "test_accuracy_min": float(acc.min()),
                          "train_seconds_mean": float(secs.mean()),
                          "train_to_embed_time_ratio": float(secs.mean() / max(embed_seconds, 1e-9)),
                          "runs": runs}
        if label == "metric":
            alt = np.array([r["test_accuracy_train_threshold"] for r in runs])
            methods[label]["test_accuracy_train_threshold_mean"] = float(alt.mean())
    out["methods"] = methods
    out["distorted"] = distorted_control(data, vectors, row, train_pairs, test_pairs, args.base)
    reference = plain["euclidean"]["accuracy_at_default_threshold"]
    out["bar"] = {"plain_euclidean_at_calibrated_threshold": reference,
                  **{m: methods[m]["test_accuracy_seed0"] >= reference for m in ("pair", "metric")}}
    report("bench_training_lfw", out, args.out)


def distorted_control(data, vectors, row, train_pairs, test_pairs, base: str) -> dict:
    """Seed-0 test accuracy of each head on embeddings whose dimensions were rescaled at random."""
    from facereid_engine.distances import paired
    from facereid_engine.evaluation.metrics import accuracy_at, best_threshold
    from facereid_engine.progress import run
    from facereid_engine.training import TrainConfig, train
    from facereid_engine.training.heads import MetricHead, pair_logits

    factors = np.exp(np.random.default_rng(0).normal(0.0, 1.2, size=vectors.shape[1]))
    v = (vectors * factors).astype(np.float32)
    idx = lambda ps, side: np.array([row[ps.images[i]] for i in side])  # noqa: E731
    tl, tr, dl, dr = idx(test_pairs, test_pairs.left), idx(test_pairs, test_pairs.right), \
        idx(train_pairs, train_pairs.left), idx(train_pairs, train_pairs.right)
    t, _ = best_threshold(paired(v[dl], v[dr], "euclidean"), train_pairs.same)
    out = {"plain_euclidean_at_train_threshold": accuracy_at(paired(v[tl], v[tr], "euclidean"), test_pairs.same, t)}
    for method in ("pair", "metric", "concat"):
        result = run(train(data, base, TrainConfig(method=method, seed=0),
                           embeddings=v[[row[p] for p in data.images]]))
        if isinstance(result.head, MetricHead):
            with torch.no_grad():
                z = result.head.embed(torch.from_numpy(v)).double().numpy()
            acc = accuracy_at(paired(z[tl], z[tr], "euclidean"), test_pairs.same, result.thresholds["euclidean"])
        else:
            acc = float(((pair_logits(result.head, v[tl], v[tr]) > 0) == test_pairs.same).mean())
        out[method] = {"test_accuracy": acc, "best_epoch": result.best_epoch}
    return out


if __name__ == "__main__":
    main()
