"""Training on real LFW images of ten people: data checks, split, determinism, cancel, save/load, use."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import facereid_engine as fr
from facereid_engine.encoders import available_encoders, card, get_encoder
from facereid_engine.errors import Cancelled, ModelFileError, UnknownNameError
from facereid_engine.paths import models_dir
from facereid_engine.progress import run
from facereid_engine.training import (TrainConfig, TrainingConfigError, TrainingDataError, list_trained,
                                      load_trained_encoder, load_training_data, save_trained, split, train)
from facereid_engine.training.embed import embed_images
from facereid_engine.training.heads import ConcatClassifier, PairClassifier, pair_logits
from facereid_engine.thresholds import default_threshold
from facereid_engine.training.model import TrainedPairEncoder
from data_paths import LFW, lfw_image
from training_helpers import PEOPLE, make_people_folder, write_pairs_file

FAST = {"epochs": 12, "patience": 4}


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    return make_people_folder(tmp_path_factory.mktemp("people"))


@pytest.fixture(scope="module")
def identities(people):
    return load_training_data(identities=people)


@pytest.fixture(scope="module")
def embeddings(identities):
    """dlib embeddings of the 40 images through the real pipeline (cached on disk for the other tests)."""
    return run(embed_images(identities.images, "dlib", face_choice="largest"))


@pytest.fixture(scope="module")
def pairs_data(people, tmp_path_factory):
    path = write_pairs_file(tmp_path_factory.mktemp("pairs") / "pairsSmall.txt")
    return load_training_data(pairs=path, images=people)


def _rows(data, identities, embeddings):
    where = {p: i for i, p in enumerate(identities.images)}
    return embeddings[[where[p] for p in data.images]]


# -- data ---------------------------------------------------------------------------------------
def test_identities_source_and_split_are_person_disjoint(identities):
    assert identities.kind == "identities" and identities.people == tuple(sorted(PEOPLE))
    assert len(identities.images) == 40 and np.bincount(identities.labels).tolist() == [4] * 10
    sp = split(identities, 0.2, seed=3)
    assert len(sp.val_people) == 2
    val = {identities.people.index(p) for p in sp.val_people}
    lab = identities.labels
    for left, right, same in ((sp.train_left, sp.train_right, sp.train_same), (sp.val_left, sp.val_right, sp.val_same)):
        assert np.array_equal(lab[left] == lab[right], same)  # labels are right
    assert not ({*lab[sp.train_left], *lab[sp.train_right]} & val)
    assert {*lab[sp.val_left], *lab[sp.val_right]} <= val
    # 8 training people: 8 * 6 matched pairs and as many mismatched; 2 validation people: 12 + 12
    assert (sp.train_same.sum(), (~sp.train_same).sum()) == (48, 48)
    assert (sp.val_same.sum(), (~sp.val_same).sum()) == (12, 12)
    again = split(identities, 0.2, seed=3)
    assert again.val_people == sp.val_people and np.array_equal(again.train_left, sp.train_left)
    assert split(identities, 0.2, seed=4).val_people != sp.val_people


def test_pairs_file_split_is_balanced_and_never_trains_on_a_validation_person(pairs_data):
    assert pairs_data.kind == "lfw-pairs" and len(pairs_data.same) == 120 and pairs_data.same.sum() == 60
    sp = split(pairs_data, 0.2, seed=0)
    lab = pairs_data.labels
    val = {pairs_data.people.index(p) for p in sp.val_people}
    assert not ({*lab[sp.train_left], *lab[sp.train_right]} & val)
    assert all(lab[a] in val or lab[b] in val for a, b in zip(sp.val_left, sp.val_right))
    assert sp.val_same.sum() == (~sp.val_same).sum() >= 2
    assert len(sp.train_same) + len(sp.val_same) <= 120


def test_malformed_and_too_small_data_fail_before_any_work(tmp_path, people):
    bad = tmp_path / "pairsBad.txt"
    bad.write_text("2\nAaron_Peirsol\t1\t2\nAaron_Peirsol\t1\n")
    with pytest.raises(TrainingDataError, match=r"pairsBad.txt:3: expected a matched pair"):
        load_training_data(pairs=bad, images=people)
    missing = tmp_path / "pairsMissing.txt"
    missing.write_text("1\nAaron_Peirsol\t1\t9\nAaron_Peirsol\t1\tArt_Howe\t1\n")
    with pytest.raises(TrainingDataError, match=r"pairsMissing.txt:2: missing image .*Aaron_Peirsol_0009"):
        load_training_data(pairs=missing, images=people)
    with pytest.raises(TrainingDataError, match="LFW's test files"):
        load_training_data(pairs=LFW / "pairsDevTest.txt")
    people_file = tmp_path / "peopleBad.txt"
    people_file.write_text("2\nAaron_Peirsol 4\nArt_Howe four\n")
    with pytest.raises(TrainingDataError, match=r"peopleBad.txt:3: expected 'name number_of_images'"):
        load_training_data(people=people_file, images=people)
    with pytest.raises(TrainingDataError, match="folder of people not found"):
        load_training_data(identities=tmp_path / "nowhere")
    # three people: too small; the generator fails on its first step, before any image is embedded
    small = make_people_folder(tmp_path / "small", PEOPLE[:3])
    work = train(load_training_data(identities=small), "dlib", TrainConfig(method="pair"))
    with pytest.raises(TrainingDataError, match=r"too little data: found 3 people, 3 of them with 2 or more images"):
        next(work)
    two_each = make_people_folder(tmp_path / "two", PEOPLE[:5], per_person=2)
    with pytest.raises(TrainingDataError, match=r"the training part has 3 same-person .* at least 8"):
        split(load_training_data(identities=two_each), 0.2, seed=0)


def test_unfreezing_says_it_needs_a_gpu():
    with pytest.raises(TrainingConfigError, match="needs a GPU" if not torch.cuda.is_available() else "not offered"):
        TrainConfig(method="pair", unfreeze=True).resolved()
    with pytest.raises(TrainingConfigError, match="unknown method 'svm'"):
        TrainConfig(method="svm").resolved()


# -- heads --------------------------------------------------------------------------------------
def test_pair_classifier_is_order_invariant_and_concat_is_not(embeddings):
    torch.manual_seed(0)
    pair, concat = PairClassifier(128).eval(), ConcatClassifier(128).eval()
    for p in pair.mlp.parameters():  # non-zero last layer, so the MLP part counts
        torch.nn.init.normal_(p)
    a, b = embeddings[:20], embeddings[20:]
    assert np.allclose(pair_logits(pair, a, b), pair_logits(pair, b, a), atol=1e-5)
    assert not np.allclose(pair_logits(concat, a, b), pair_logits(concat, b, a), atol=1e-3)


# -- training -----------------------------------------------------------------------------------
def test_training_is_deterministic_for_a_seed(identities, embeddings):
    # patience=None keeps the last epoch: the weights compared are trained ones
    results = [run(train(identities, "dlib", TrainConfig(method=m, seed=s, epochs=8, patience=None),
                         embeddings=embeddings))
               for m, s in (("pair", 7), ("pair", 7), ("pair", 8), ("metric", 7), ("metric", 7))]
    first, second, other, metric1, metric2 = results
    for x, y in ((first, second), (metric1, metric2)):
        assert x.history == y.history and x.best_epoch == y.best_epoch == 8
        sx, sy = x.head.state_dict(), y.head.state_dict()
        assert all(torch.equal(sx[k], sy[k]) for k in sx)
    assert any(not torch.equal(v, other.head.state_dict()[k]) for k, v in first.head.state_dict().items())
    assert [h["epoch"] for h in first.history] == list(range(len(first.history)))
    assert first.base_val_accuracy > 0.8 and first.val_accuracy >= 0.8  # dlib separates these people well
    assert set(metric1.thresholds) == {"euclidean", "euclidean_l2", "cosine"}


def test_progress_events_per_epoch_and_early_stopping(identities, embeddings):
    events = []
    result = run(train(identities, "dlib", TrainConfig(method="concat", seed=0, epochs=5), embeddings=embeddings),
                 events.append)
    assert [e.info["epoch"] for e in events] == [0, 1, 2, 3, 4, 5]
    assert all({"epoch", "loss", "val_accuracy", "val_loss"} <= set(e.info) for e in events)
    assert result.best_epoch == 5 and not result.stopped_early  # the study's recipe: no early stopping
    late = []
    stopped = run(train(identities, "dlib", TrainConfig(method="pair", seed=0, epochs=50, patience=2),
                        embeddings=embeddings), late.append)
    assert stopped.stopped_early and len(stopped.history) - 1 == stopped.best_epoch + 2
    # the last event completes the bar and carries the whole history
    assert (late[-1].done, late[-1].total) == (50, 50) and late[-1].info["stopped_early"]
    assert late[-1].info["history"] == stopped.history


def test_cancel_between_epochs_leaves_no_model(identities, embeddings):
    before = sorted(p.name for p in models_dir().iterdir())
    seen = []
    with pytest.raises(Cancelled):
        run(train(identities, "dlib", TrainConfig(method="metric", seed=0, **FAST), embeddings=embeddings),
            seen.append, should_stop=lambda: len(seen) >= 3)
    assert len(seen) == 3 and sorted(p.name for p in models_dir().iterdir()) == before


def test_failed_save_leaves_no_half_written_model(identities, embeddings, monkeypatch):
    result = run(train(identities, "dlib", TrainConfig(method="pair", seed=0, **FAST), embeddings=embeddings))
    before = sorted(p.name for p in models_dir().iterdir())

    def broken_save(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_trained(result, "broken")
    assert sorted(p.name for p in models_dir().iterdir()) == before
    assert "dlib+broken" not in list_trained()


# -- store, registry, use ----------------------------------------------------------------------------
def test_save_load_round_trip_and_registry(identities, embeddings, people):
    metric = run(train(identities, "dlib", TrainConfig(method="metric", seed=1, **FAST), embeddings=embeddings))
    pair = run(train(identities, "dlib", TrainConfig(method="pair", seed=1, **FAST), embeddings=embeddings))
    assert save_trained(metric, "roundmetric") == "dlib+roundmetric"
    assert save_trained(pair, "roundpair") == "dlib+roundpair"
    info = json.loads((models_dir() / "dlib+roundmetric.json").read_text())
    assert info["base"] == "dlib" and info["method"] == "metric" and info["data"]["n_people"] == 10
    assert info["metrics"]["val_accuracy"] == metric.val_accuracy and info["config"]["seed"] == 1
    assert {"dlib+roundmetric", "dlib+roundpair"} <= set(list_trained())
    assert {"dlib+roundmetric", "dlib+roundpair"} <= set(available_encoders())

    loaded = load_trained_encoder("dlib+roundmetric")
    for k, v in metric.head.state_dict().items():
        assert torch.equal(loaded.head.state_dict()[k], v)
    assert card("dlib+roundmetric").thresholds["cosine"] == (metric.thresholds["cosine"], False)
    assert default_threshold("dlib+roundmetric", "cosine") == (metric.thresholds["cosine"], False)
    assert default_threshold("dlib+roundpair", "euclidean") == default_threshold("dlib", "euclidean")
    enc = get_encoder("dlib+roundmetric")
    base = get_encoder("dlib")
    chips = fr.FacePipeline("dlib").chips(fr.load_image(lfw_image("Art_Howe", 1)),
                                          fr.FacePipeline("dlib").find_faces(fr.load_image(lfw_image("Art_Howe", 1))))
    z = enc.embed(chips)
    expected = metric.head.embed(torch.from_numpy(base.embed(chips))).detach().numpy()
    assert z.shape == (1, 128) and np.allclose(z, expected, atol=1e-6)

    pair_enc = get_encoder("dlib+roundpair")
    assert isinstance(pair_enc, TrainedPairEncoder)
    assert np.array_equal(pair_enc.embed(chips), base.embed(chips))
    assert card("dlib+roundpair").threshold("euclidean") == card("dlib").threshold("euclidean")
    a, b = embeddings[:8], embeddings[8:16]
    assert np.allclose(pair_enc.pair_probability(a, b), 1 / (1 + np.exp(-pair_logits(pair.head, a, b))))

    with pytest.raises(UnknownNameError, match="no trained model called 'dlib\\+nothing'"):
        get_encoder("dlib+nothing")


def test_weights_are_loaded_with_weights_only(identities, embeddings):
    result = run(train(identities, "dlib", TrainConfig(method="pair", seed=2, **FAST), embeddings=embeddings))
    save_trained(result, "tampered")
    weights = models_dir() / "dlib+tampered.pt"
    torch.save({"mlp.0.weight": Path("/etc/passwd")}, weights)  # a pickled object where a tensor belongs
    with pytest.raises(ModelFileError, match="holds more than tensors"):
        load_trained_encoder("dlib+tampered")
    torch.save({"mlp.0.weight": torch.zeros(3)}, weights)  # tensors, but not this head's
    with pytest.raises(ModelFileError, match="cannot load the weights .*RuntimeError"):
        load_trained_encoder("dlib+tampered")


def test_use_decides_with_a_trained_pair_classifier(identities, embeddings):
    result = run(train(identities, "dlib", TrainConfig(method="pair", seed=0, **FAST), embeddings=embeddings))
    save_trained(result, "usepair")
    same = fr.use(img1_path=str(lfw_image("George_W_Bush", 1)), img2_path=str(lfw_image("George_W_Bush", 2)),
                  model_name="dlib+usepair")
    diff = fr.use(img1_path=lfw_image("George_W_Bush", 1), img2_path=lfw_image("Colin_Powell", 1),
                  model_name="usepair")
    assert same and not diff
    assert same.distance_name == "pair" and same.threshold == 0.5
    assert same.probability > 0.5 > diff.probability and np.isclose(same.distance, 1 - same.probability)
    assert same.encoder_name == "dlib+usepair" and same.to_json()["probability"] == round(same.probability, 6)


def test_an_epoch_is_kept_only_when_significantly_better_on_validation():
    from facereid_engine.training.train import significantly_better

    def pairs(wins: int, losses: int, both: int = 20):
        new = np.r_[np.ones(wins, bool), np.zeros(losses, bool), np.ones(both, bool)]
        kept = np.r_[np.zeros(wins, bool), np.ones(losses, bool), np.ones(both, bool)]
        return new, kept
    # exact one-sided binomial tail over the disagreements: 5-0 -> 1/32, 4-0 -> 1/16, 6-1 -> 8/128, 7-1 -> 9/256
    assert significantly_better(*pairs(5, 0), alpha=0.05)
    assert not significantly_better(*pairs(4, 0), alpha=0.05)
    assert not significantly_better(*pairs(6, 1), alpha=0.05)
    assert significantly_better(*pairs(7, 1), alpha=0.05)
    assert not significantly_better(*pairs(7, 1), alpha=0.03)
    assert not significantly_better(*pairs(0, 0), alpha=1.0)
