"""The ``trained`` encoder family: the models the user trained, named ``<base>+<name>``.

It registers itself with the encoder registry when imported (``facereid_engine`` names this module
among the built-in families); the registry knows nothing of training.
"""
from __future__ import annotations

import torch

from ..distances import DISTANCES
from ..encoders.base import Encoder
from ..encoders.names import split_trained
from ..encoders.registry import EncoderCard, EncoderFamily, card as base_card, register_family
from ..errors import FaceReIDError
from .heads import reduced_dim
from .model import describe
from .store import list_trained, load_trained_encoder, read_info


class TrainedFamily(EncoderFamily):
    name = "trained"

    def names(self) -> list[str]:
        return list_trained()

    def provides(self, name: str) -> bool:
        """Every ``<base>+<name>``: one that does not exist gets the trained models' own error."""
        return split_trained(name) is not None

    def card(self, name: str) -> EncoderCard:
        info = read_info(name)
        base = info["base"]
        try:
            under = base_card(base)
            unavailable = under.unavailable and f"its base encoder {base!r} is unavailable: {under.unavailable}"
        except FaceReIDError as exc:
            under, unavailable = None, f"its base encoder {base!r} is not available: {exc}"
        metric = info["method"] == "metric"
        own = info.get("thresholds", {}) if metric else {}
        thresholds = {d: (float(own[d]), False) if d in own else (under.threshold(d) if under else None)
                      for d in DISTANCES}
        chip = info.get("base_chip", {})
        dim = reduced_dim(int(info["head"]["dim"])) if metric else int(info["head"]["dim"])
        return EncoderCard(
            name=name, family=self.name, dim=dim, chip_size=int(chip.get("size", 150)),
            chip_padding=float(chip.get("padding", 0.25)),
            alignment=under.alignment if under else "its base encoder's",
            description=describe(info), licence=f"trained by you; the base encoder {base!r} keeps its own licence",
            source=f"trained in FaceReID on {info.get('data', {}).get('source', '?')}",
            thresholds={d: t for d, t in thresholds.items() if t is not None}, unavailable=unavailable or "")

    def load(self, name: str, device: torch.device) -> Encoder:
        return load_trained_encoder(name, device=device)


register_family(TrainedFamily())
