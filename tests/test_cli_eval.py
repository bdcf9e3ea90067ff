"""``facereid eval`` and ``evaluate()`` end to end on 20 real LFW pairs with the default (fused) and dlib encoders."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from data_paths import LFW, LFW_IMAGES, lfw_image
from facereid_engine.cli import main
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.evaluation.embedding_cache import EmbeddingCache, embed_image_files
from facereid_engine.errors import Cancelled
from facereid_engine.evaluation.runner import evaluate
from facereid_engine.evaluation.pairsets import read_pairs_file
from facereid_engine.pipeline import FacePipeline
from facereid_engine.progress import run
from facereid_engine.evaluation.scoring import k_fold

pytestmark = pytest.mark.slow

# the first 5 matched and 5 mismatched pairs of LFW folds 1 and 2 (pairs.txt lines 2-6, 302-306, 602-606, 902-906)
_ROWS = (LFW / "pairs.txt").read_text().splitlines()
SMALL = ["2\t5", *_ROWS[1:6], *_ROWS[301:306], *_ROWS[601:606], *_ROWS[901:906]]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    two_folds = root / "two_folds.txt"
    two_folds.write_text("\n".join(SMALL) + "\n")
    train = root / "train.txt"  # fold 1 as a one-fold file
    train.write_text("\n".join(["5", *SMALL[1:11]]) + "\n")
    test = root / "test.txt"    # fold 2 as a one-fold file
    test.write_text("\n".join(["5", *SMALL[11:21]]) + "\n")
    return {"two_folds": two_folds, "train": train, "test": test, "root": root}


def _eval(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(["eval", "--images", str(LFW_IMAGES), "--json", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_two_fold_file_with_json_and_charts(capsys, files, tmp_path):
    out_dir = tmp_path / "out"
    start = time.monotonic()
    code, result, _ = _eval(capsys, "--pairs", str(files["two_folds"]), "--out", str(out_dir))
    first = time.monotonic() - start
    assert code == 0
    assert result["n_pairs"] == 20 and result["n_folds"] == 2 and result["flip"] is False
    assert result["pairs"]["n_images"] == 33 and result["encoders"][DEFAULT_ENCODER]["n_images"] == 33
    assert set(result["results"][DEFAULT_ENCODER]) == {"euclidean", "euclidean_l2", "cosine"}
    for distance, r in result["results"][DEFAULT_ENCODER].items():
        assert r["protocol"] == "k-fold" and r["n_pairs"] == 20 and r["n_folds"] == 2
        assert len(r["thresholds"]) == 2 and r["threshold_mean"] == pytest.approx(np.mean(r["thresholds"]), abs=1e-6)
        assert r["accuracy_mean"] >= 0.9, distance  # the default is over 99% on LFW
        assert r["auc"] >= 0.95 and set(r["tar_at_far"]) == {"0.001", "0.01"}
        for key in ("accuracy_std", "eer"):
            assert key in r
    euclidean = result["results"][DEFAULT_ENCODER]["euclidean"]
    assert 0.4 < euclidean["threshold_mean"] < 0.8
    assert json.loads((out_dir / "results.json").read_text())["results"][DEFAULT_ENCODER]["euclidean"] == euclidean
    for name in (f"accuracy_{DEFAULT_ENCODER}.png", f"roc_{DEFAULT_ENCODER}.png", f"histograms_{DEFAULT_ENCODER}.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run with one distance reads every embedding from the cache
    start = time.monotonic()
    code, again, _ = _eval(capsys, "--pairs", str(files["two_folds"]), "--distance", "euclidean")
    assert code == 0 and set(again["results"][DEFAULT_ENCODER]) == {"euclidean"}
    assert again["encoders"][DEFAULT_ENCODER]["cached"] == 33
    assert again["results"][DEFAULT_ENCODER]["euclidean"]["accuracy_mean"] == euclidean["accuracy_mean"]
    assert time.monotonic() - start < first / 2


def test_train_pairs_choose_the_threshold_and_score_once(capsys, files):
    code, result, _ = _eval(capsys, "--pairs", str(files["test"]), "--train-pairs", str(files["train"]),
                            "--distance", "euclidean")
    assert code == 0
    r = result["results"][DEFAULT_ENCODER]["euclidean"]
    assert r["protocol"] == "train-test" and r["accuracy_std"] == 0 and len(r["thresholds"]) == 1
    assert result["train_pairs"]["n_pairs"] == 10 and r["n_pairs"] == 10
    assert r["accuracy_mean"] >= 0.9
    # one fold alone: scored at the calibrated default threshold, nothing chosen on it
    code, alone, _ = _eval(capsys, "--pairs", str(files["test"]), "--distance", "euclidean")
    r = alone["results"][DEFAULT_ENCODER]["euclidean"]
    from facereid_engine.thresholds import default_threshold
    assert r["protocol"] == "fixed-threshold" and r["thresholds"] == [default_threshold(DEFAULT_ENCODER, "euclidean")[0]]


def test_evaluate_generator_matches_the_protocol_and_can_be_cancelled(files):
    pairs = read_pairs_file(files["two_folds"], LFW_IMAGES)
    events = []
    evaluation = run(evaluate(pairs, ["dlib"], ["euclidean"]), events.append)
    assert [e.done for e in events] == sorted(e.done for e in events) and events[-1].done == events[-1].total
    r = evaluation.results["dlib"]["euclidean"]
    again = k_fold(r.distances, r.same, r.folds)
    assert again.fold_accuracies == r.score.fold_accuracies and again.thresholds == r.score.thresholds
    # cancelling between two steps raises Cancelled and leaves what was embedded in the cache
    pipeline = FacePipeline("dlib")
    images = [lfw_image("Zico", n) for n in (1, 2, 3)] + [lfw_image("Sok_An", 1)]
    seen = []
    with pytest.raises(Cancelled):
        run(embed_image_files(images, pipeline, flip=True, batch_size=2), seen.append,
            should_stop=lambda: seen[-1].done >= 2)
    with EmbeddingCache("dlib") as cache:
        keys = [(str(p), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in images]
        variant = "v1;centre;upauto;side2048"  # small pictures doubled automatically: see pipeline.py
        assert set(cache.lookup(keys, variant, False)) == set(cache.lookup(keys, variant, True)) == {0, 1}
    # flip: the mean of the plain and the mirrored vectors, each cached separately
    plain = run(embed_image_files(images, pipeline))
    flipped = run(embed_image_files(images, pipeline, flip=True))
    # images 2 and 3 had no mirrored vector yet: detected again, only their mirrored chips embedded
    assert plain.cached == 2 and flipped.cached == 2 and not flipped.fallback.any()
    assert run(embed_image_files(images, pipeline, flip=True)).cached == 4
    roundabout = LFW / ".." / "lfw" / "images" / "Zico" / "Zico_0001.jpg"  # the same file, another spelling
    assert run(embed_image_files([roundabout], pipeline)).cached == 1
    with EmbeddingCache("dlib") as cache:
        mirrored = cache.lookup(keys, variant, True)
    assert np.allclose(flipped.vectors[3], (plain.vectors[3] + mirrored[3][0]) / 2, atol=1e-6)
    assert 0 < np.linalg.norm(flipped.vectors[3] - plain.vectors[3]) < 0.2


def test_identity_folder(capsys, tmp_path):
    people = {"Zico": 3, "Adam_Scott": 2, "Abdullah": 3, "Abel_Pacheco": 2, "AJ_Cook": 1}
    for name, count in people.items():
        (tmp_path / name).mkdir()
        for n in range(1, count + 1):
            os.symlink(lfw_image(name, n), tmp_path / name / f"{n:02d}.jpg")
    code, result, _ = _eval(capsys, "--identities", str(tmp_path), "--folds", "2", "--pairs-per-fold", "2",
                            "--distance", "cosine")
    assert code == 0 and result["pairs"]["kind"] == "identities" and result["face_choice"] == "largest"
    r = result["results"][DEFAULT_ENCODER]["cosine"]
    assert r["n_folds"] == 2 and r["n_pairs"] == 8 and r["protocol"] == "k-fold"


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.txt", "missing.txt: file not found"),
    (lambda d: _bad(d), "bad.txt:3: unknown name 'Nobody'"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_work(capsys, tmp_path, make, words):
    start = time.monotonic()
    code, _, err = _eval(capsys, "--pairs", str(make(tmp_path)))
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert time.monotonic() - start < 5


def _bad(folder):
    path = folder / "bad.txt"
    path.write_text("\n".join(["5", *SMALL[1:2], "Nobody 1 2", *SMALL[3:11]]) + "\n")
    return path


def test_unknown_and_unavailable_encoders_are_clear_errors(capsys, files, monkeypatch, tmp_path):
    code, _, err = _eval(capsys, "--pairs", str(files["test"]), "--encoder", "nosuch")
    assert code == 2 and "unknown encoder 'nosuch'" in err
    monkeypatch.setenv("FACEREID_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    code, _, err = _eval(capsys, "--pairs", str(files["test"]), "--encoder", "resnet")
    assert code == 2 and "resnet50-" in err and err.startswith("facereid: error: ")


def test_other_encoders_run_through_the_same_path_with_random_weights(tmp_path):
    """Mechanics only: an ImageNet encoder with RANDOM weights (its vectors mean nothing), 224-px chips,
    a cache of its own that never mixes with real weights."""
    from facereid_engine.encoders.imagenet import load_imagenet_encoder
    encoder = load_imagenet_encoder("squeezenet", weights="random")
    path = tmp_path / "four.txt"
    path.write_text("\n".join(["2 1", SMALL[1], SMALL[6], SMALL[11], SMALL[16]]) + "\n")
    pairs = read_pairs_file(path, LFW_IMAGES)
    evaluation = run(evaluate(pairs, [encoder], ["cosine"]))
    result = evaluation.results["squeezenet"]["cosine"]
    assert evaluation.encoders["squeezenet"].dim == encoder.dim == 512 * 13 * 13
    assert result.score.protocol == "k-fold" and len(result.score.thresholds) == 2 and len(result.distances) == 4
    keys = [(str(p), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in pairs.images]
    with EmbeddingCache("squeezenet@random") as cache:
        assert cache.lookup(keys, "v1;centre;upauto;side2048", False).keys() == set(range(len(pairs.images)))
