"""``facereid encoders``: every encoder with its card (dimension, chip, thresholds, licence, why unavailable)."""
from __future__ import annotations

import dataclasses
import json

from ..distances import DISTANCES


def register(sub) -> None:
    p = sub.add_parser("encoders", help="list the encoders, with what each is and whether it can be used here",
                       description="List every encoder from its card (no weights are loaded): family, "
                                   "dimension, chip size, default thresholds per distance, licence and source "
                                   "of the weights, and why it is unavailable when its weights are missing.")
    p.add_argument("--json", action="store_true", help="print one JSON object per encoder, one per line")
    p.set_defaults(func=run)


def _threshold_words(card) -> str:
    words = []
    for distance in DISTANCES:
        value, provisional = card.threshold(distance)
        words.append(f"{distance} {value:.4g}{' (provisional)' if provisional else ''}")
    return ", ".join(words)


def run(args) -> int:
    from ..encoders import DEFAULT_ENCODER, cards

    for card in cards():
        if args.json:
            payload = dataclasses.asdict(card)
            payload["thresholds"] = {d: {"value": card.threshold(d)[0], "provisional": card.threshold(d)[1]}
                                     for d in DISTANCES}
            payload["available"] = card.available
            payload["default"] = card.name == DEFAULT_ENCODER
            print(json.dumps(payload, allow_nan=False), flush=True)
            continue
        mark = " (default)" if card.name == DEFAULT_ENCODER else ""
        state = "ready" if card.available else f"UNAVAILABLE: {card.unavailable}"
        print(f"{card.name}{mark} [{card.family}] {card.dim}-D, {card.chip_size}px chip — {state}")
        print(f"    {card.description}")
        print(f"    thresholds: {_threshold_words(card)}")
        print(f"    weights: {card.source}; licence: {card.licence}")
    return 0
