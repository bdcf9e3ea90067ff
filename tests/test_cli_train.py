"""``facereid train`` in-process on real LFW images of ten people (a folder of symlinks)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from facereid_engine.cli import main
from facereid_engine.defaults import DEFAULT_ENCODER
from facereid_engine.encoders import available_encoders, get_encoder
from facereid_engine.paths import models_dir
from training_helpers import make_people_folder, write_pairs_file


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    return make_people_folder(tmp_path_factory.mktemp("cli-people"))


def test_train_identities_json_summary_and_new_encoder(people, capsys):
    rc = main(["train", "--base", "dlib", "--method", "metric", "--identities", str(people), "--name", "clim",
               "--seed", "3", "--epochs", "6", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["name"] == "dlib+clim" and summary["method"] == "metric" and summary["base"] == "dlib"
    assert summary["data"] == {"source": str(people), "kind": "identities", "n_images": 40, "n_people": 10}
    assert summary["split"]["val_people"] == 2 and summary["config"]["seed"] == 3
    assert [h["epoch"] for h in summary["history"]][0] == 0 and len(summary["history"]) <= 7
    assert 0.5 <= summary["val_accuracy"] <= 1.0 and set(summary["thresholds"]) == {"euclidean", "euclidean_l2",
                                                                                    "cosine"}
    assert "[" in err  # the progress bar went to stderr
    assert "dlib+clim" in available_encoders() and get_encoder("dlib+clim").dim == 128
    assert (models_dir() / "dlib+clim.pt").is_file() and (models_dir() / "dlib+clim.json").is_file()

    # the same name again is refused before any work; --overwrite replaces it
    assert main(["train", "--base", "dlib", "--method", "pair", "--identities", str(people), "--name", "clim",
                 "--quiet"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_train_pairs_file_text_output(people, tmp_path, capsys):
    pairs = write_pairs_file(tmp_path / "pairsSmall.txt")
    rc = main(["train", "--method", "pair", "--pairs", str(pairs), "--images", str(people), "--name", "clip",
               "--epochs", "4", "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    base = DEFAULT_ENCODER  # no --base: the default encoder
    assert out.startswith(f"saved {base}+clip: pair on {base}, validation accuracy ") and f"plain {base} distance" in out
    assert err == ""


@pytest.mark.parametrize("args, message", [
    (["--unfreeze"], "needs a GPU|not offered"),
    (["--name", "bad+name"], "model name 'bad\\+name'"),
    (["--method", "concat", "--epochs", "0"], "must be positive"),
])
def test_train_refuses_bad_options_before_any_work(people, capsys, args, message):
    base = ["train", "--identities", str(people), "--name", "refused"]
    rc = main(base + args)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("facereid: error: ")
    assert re.search(message, err)
    assert not (models_dir() / f"{DEFAULT_ENCODER}+refused.json").exists()


def test_train_too_small_data_is_an_error(tmp_path, capsys):
    small = make_people_folder(tmp_path / "three", ("Aaron_Peirsol", "Art_Howe", "Alec_Baldwin"))
    assert main(["train", "--identities", str(small), "--name", "small", "--quiet"]) == 2
    assert "too little data" in capsys.readouterr().err


def test_trained_models_are_measured_by_eval_with_their_own_thresholds(people, tmp_path, capsys):
    """A metric head's thresholds come with it; a pair classifier is scored on its own decisions."""
    from facereid_engine.thresholds import default_threshold
    from facereid_engine.training.store import read_info

    pairs = write_pairs_file(tmp_path / "pairsEval.txt")
    for method, name in (("metric", "evm"), ("pair", "evp")):
        assert main(["train", "--method", method, "--identities", str(people), "--name", name,
                     "--epochs", "3", "--quiet"]) == 0
    capsys.readouterr()
    metric, pair = f"{DEFAULT_ENCODER}+evm", f"{DEFAULT_ENCODER}+evp"  # no --base: the default encoder
    stored = read_info(metric)["thresholds"]["cosine"]
    assert default_threshold(metric, "cosine") == (pytest.approx(stored), False)

    assert main(["eval", "--pairs", str(pairs), "--images", str(people), "--encoder", pair,
                 "--json", "--quiet"]) == 0
    results = json.loads(capsys.readouterr().out)["results"][pair]
    accuracies = {d: r["accuracy_mean"] for d, r in results.items()}
    assert set(accuracies) == {"euclidean", "euclidean_l2", "cosine"}
    assert len(set(accuracies.values())) == 1  # the classifier's decisions, whatever the distance
    assert all(r["threshold_mean"] == 0.5 for r in results.values())
    assert min(accuracies.values()) > 0.8
    # a trained encoder cuts its base's own chips (fused stacks dlib's and SFace's), not dlib's
    from data_paths import lfw_image
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import get_pipeline
    image = load_image(lfw_image("Abel_Pacheco", 1))
    faces = get_pipeline(DEFAULT_ENCODER).find_faces(image)
    chips = get_encoder(pair).chips(image, faces)
    assert chips.shape[1:] == get_encoder(DEFAULT_ENCODER).chips(image, faces).shape[1:] == (262, 150, 3)
    assert np.array_equal(chips, get_encoder(DEFAULT_ENCODER).chips(image, faces))
