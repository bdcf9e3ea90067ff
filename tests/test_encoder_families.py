"""A family registered from this file alone is found everywhere: the registry's cards, thresholds,
``facereid verify/eval/albums --encoder`` and ``facereid encoders``."""
from __future__ import annotations

import json

import numpy as np
import pytest
from data_paths import GROUP, LFW, LFW_IMAGES, lfw_image

from facereid_engine.cli import main
from facereid_engine.encoders import (Encoder, EncoderCard, EncoderFamily, available_encoders, card, cards,
                                      get_encoder, register_family, split_trained, trained_name,
                                      unregister_family)
from facereid_engine.errors import UnknownNameError
from facereid_engine.library import Library
from facereid_engine.thresholds import default_threshold

TOY = "toyproj"
TOY_THRESHOLDS = {"euclidean": (0.7, False), "euclidean_l2": (0.5, False), "cosine": (0.12, False)}


def _projection(dim_in: int = 128, dim_out: int = 64, seed: int = 7) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim_in, dim_in)))
    return q[:, :dim_out].astype(np.float32)


class ToyEncoder(Encoder):
    """dlib's vector times a fixed random orthonormal projection: 64-D, dlib's chips."""

    name, dim, chip_size, chip_padding = TOY, 64, 150, 0.25

    def __init__(self, device):
        self.base = get_encoder("dlib", device=device)
        self.projection = _projection()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        return self.base.embed(chips) @ self.projection


class ToyFamily(EncoderFamily):
    name = "toy"
    loads = 0

    def names(self) -> list[str]:
        return [TOY]

    def card(self, name: str) -> EncoderCard:
        return EncoderCard(name=name, family=self.name, dim=64, chip_size=150, alignment="dlib's",
                           description="a seeded random projection of dlib's vector", licence="test only",
                           source="computed", thresholds=dict(TOY_THRESHOLDS))

    def load(self, name: str, device) -> Encoder:
        ToyFamily.loads += 1
        return ToyEncoder(device)


@pytest.fixture
def toy():
    family = register_family(ToyFamily())
    yield family
    unregister_family("toy")
    assert TOY not in available_encoders()


def test_cards_and_thresholds_come_from_the_family(toy):
    assert TOY in available_encoders() and available_encoders()[0] == "dlib"
    assert card(TOY).family == "toy" and card(TOY).dim == 64
    assert [c.name for c in cards()].count(TOY) == 1
    loads = ToyFamily.loads
    assert default_threshold(TOY, "euclidean-l2") == (0.5, False)  # read from the card, nothing loaded
    assert ToyFamily.loads == loads
    assert get_encoder(TOY) is get_encoder(TOY) and ToyFamily.loads == loads + 1


def test_unknown_names_list_the_choices(toy):
    with pytest.raises(UnknownNameError, match="toyproj"):
        get_encoder("nope")


def test_composite_names_have_one_parser():
    assert split_trained("dlib+mine") == ("dlib", "mine") and trained_name("dlib", "mine") == "dlib+mine"
    assert split_trained("dlib") is None and split_trained("+x") is None and split_trained("x+") is None


def test_cli_verify_uses_the_toy_encoder_and_its_threshold(toy, capsys):
    code = main(["verify", str(lfw_image("George_W_Bush", 1)), str(lfw_image("George_W_Bush", 2)),
                 "--encoder", TOY, "--distance", "cosine", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["encoder"] == TOY and result["threshold"] == 0.12 and result["verified"]
    code = main(["verify", str(lfw_image("George_W_Bush", 1)), str(lfw_image("Colin_Powell", 1)),
                 "--encoder", TOY, "--distance", "cosine", "--json"])
    assert code == 1 and json.loads(capsys.readouterr().out)["verified"] is False


def test_cli_encoders_lists_the_card(toy, capsys):
    assert main(["encoders", "--json"]) == 0
    listed = {json.loads(line)["name"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert listed[TOY]["family"] == "toy" and listed[TOY]["thresholds"]["cosine"]["value"] == 0.12
    assert listed["fused"]["default"] is True and listed["fused"]["available"] is True
    assert listed["dlib"]["default"] is False and listed["dlib"]["available"] is True


@pytest.mark.slow
def test_cli_eval_with_the_toy_encoder(toy, capsys, tmp_path):
    rows = (LFW / "pairs.txt").read_text().splitlines()
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\n".join(["1\t4", *rows[1:5], *rows[301:305]]) + "\n")
    code = main(["eval", "--pairs", str(pairs), "--images", str(LFW_IMAGES), "--encoder", TOY, "--json",
                 "--quiet", "--distance", "cosine"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and set(result["results"]) == {TOY}
    assert result["results"][TOY]["cosine"]["thresholds"] == [0.12]


@pytest.mark.slow
def test_cli_albums_with_the_toy_encoder(toy, capsys, tmp_path):
    library = tmp_path / "lib.sqlite"
    code = main(["albums", str(GROUP / "enrollment"), "--library", str(library), "--encoder", TOY, "--json",
                 "--no-progress"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["errors"] == [] and data["people"]
    with Library(library) as lib:
        assert lib.encoder == TOY
        ids = [f.id for p in lib.people() for f in lib.faces(p.id)]
        assert ids and lib.embeddings(ids, TOY).shape == (len(ids), 64)
