"""Trained models on disk: ``models_dir()/<base>+<name>.pt`` (a state dict) and ``.json`` (what it is).

Both files are written to temporary names first and moved into place with ``os.replace``, the JSON
last: a model exists (for :func:`list_trained`) only once both are complete. Weights are read back
with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import pickle
import re
from pathlib import Path

import torch

from ..encoders.base import Encoder
from ..encoders.names import split_trained, trained_name
from ..encoders.registry import forget_encoder, get_encoder
from ..errors import FaceReIDError, ModelFileError, UnknownNameError
from ..paths import models_dir
from .heads import METHODS, build_head, check_head_config
from .model import TrainedEncoder, trained_encoder
from .train import TrainResult

FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ModelExistsError(FaceReIDError):
    """A trained model of that name exists already."""


def check_name(name: str) -> str:
    """A model name: 1-64 letters, digits, ``_ . -`` (no ``+``, no path), starting with a letter or digit."""
    name = str(name).strip()
    if not _NAME.match(name):
        raise UnknownNameError(f"model name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
                               "starting with a letter or digit")
    return name


def full_name(base: str, name: str) -> str:
    return trained_name(base, check_name(name))


def _files(full: str) -> tuple[Path, Path]:
    folder = models_dir()
    return folder / f"{full}.pt", folder / f"{full}.json"


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_trained(result: TrainResult, name: str, *, overwrite: bool = False) -> str:
    """Write a trained model; returns its encoder name ``<base>+<name>``.

    Raises ModelExistsError when the name is taken (unless ``overwrite``).
    """
    full = full_name(result.base, name)
    weights_path, info_path = _files(full)
    if info_path.exists() and not overwrite:
        raise ModelExistsError(f"a trained model called {full!r} exists already ({info_path}); choose another name")
    base: Encoder = get_encoder(result.base)
    info = {
        "format": FORMAT, "name": full, "base": result.base, "method": result.method,
        "head": result.head.config,
        "base_chip": {"size": base.chip_size, "padding": base.chip_padding},
        "data": result.data, "split": result.split,
        "config": result.summary()["config"], "metrics": result.metrics(), "thresholds": result.thresholds,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if info_path.exists():
        info_path.unlink()  # while the weights are replaced the old model must not be listed
    state = {k: v.detach().cpu().clone() for k, v in result.head.state_dict().items()}
    _write_atomic(weights_path, lambda fh: torch.save(state, fh))
    info["weights_sha256"] = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    text = json.dumps(info, indent=2).encode("utf-8")
    _write_atomic(info_path, lambda fh: fh.write(text))
    forget_encoder(full)  # an overwritten model must not be served from the cache
    return full


def list_trained() -> list[str]:
    """Names (``<base>+<name>``) of the complete trained models, sorted."""
    out = []
    for info in sorted(models_dir().glob("*.json")):
        if info.name.startswith(".") or split_trained(info.stem) is None:
            continue
        if info.with_suffix(".pt").is_file():
            out.append(info.stem)
    return out


def read_info(full: str) -> dict:
    """The JSON of a trained model. Raises UnknownNameError / ModelFileError."""
    weights_path, info_path = _files(full)
    if split_trained(full) is None or not info_path.is_file() or not weights_path.is_file():
        known = ", ".join(list_trained()) or "none yet"
        raise UnknownNameError(f"no trained model called {full!r} (trained models: {known})")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(info_path, f"unreadable model description ({exc})") from None
    if not isinstance(info, dict):
        raise ModelFileError(info_path, "not a FaceReID model description (not a JSON object)")
    missing = [k for k in ("format", "base", "method", "head") if k not in info]
    if missing or info.get("format") != FORMAT:
        raise ModelFileError(info_path, f"not a FaceReID model description (missing {missing or 'format 1'})")
    try:
        _check_info(info)
    except ValueError as exc:
        raise ModelFileError(info_path, f"damaged model description: {exc}") from None
    return info


def _check_info(info: dict) -> None:
    """Raise ValueError unless every field that is read back has the type and values it is written with."""
    from ..distances import DISTANCES

    if not isinstance(info["base"], str) or not info["base"]:
        raise ValueError(f"the base encoder must be a name, not {info['base']!r}")
    if info["method"] not in METHODS:
        raise ValueError(f"unknown method {info['method']!r}: choose one of {', '.join(METHODS)}")
    check_head_config(info["head"])
    if info["head"]["method"] != info["method"]:
        raise ValueError(f"the head is a {info['head']['method']!r} head, the model a {info['method']!r} model")

    def number(value, what: str, low: float, high: float) -> None:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or not low <= value <= high):
            raise ValueError(f"{what} must be a number in {low:g}..{high:g}, not {value!r}")

    chip = info.get("base_chip", {})
    if not isinstance(chip, dict):
        raise ValueError(f"base_chip must be an object, not {chip!r}")
    if "size" in chip:
        number(chip["size"], "base_chip.size", 8, 4096)
        if not float(chip["size"]).is_integer():
            raise ValueError(f"base_chip.size must be a whole number, not {chip['size']!r}")
    if "padding" in chip:
        number(chip["padding"], "base_chip.padding", 0, 10)
    thresholds = info.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ValueError(f"thresholds must be an object, not {thresholds!r}")
    for distance, value in thresholds.items():
        if distance not in DISTANCES:
            raise ValueError(f"threshold for an unknown distance {distance!r}")
        number(value, f"the {distance} threshold", 0, 1e6)
    for key in ("data", "metrics", "split", "config"):
        if key in info and not isinstance(info[key], dict):
            raise ValueError(f"{key} must be an object, not {type(info[key]).__name__}")


def load_trained_encoder(name: str, device: torch.device | str | None = None) -> TrainedEncoder:
    """The trained model ``<base>+<name>`` as an encoder (its base loaded on ``device`` when first used;
    the head on the CPU)."""
    info = read_info(name)
    weights_path, _ = _files(name)
    head = build_head(info["head"])
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ModelFileError(weights_path, "cannot load the weights: the file holds more than tensors "
                                           "(refused: only plain state dicts are loaded)") from None
    except Exception as exc:  # damaged or not a torch file
        raise ModelFileError(weights_path, f"cannot load the weights ({exc.__class__.__name__}: {exc})") from None
    try:
        head.load_state_dict(state)
    except Exception as exc:  # a damaged, foreign or mismatched file
        raise ModelFileError(weights_path, f"cannot load the weights ({exc.__class__.__name__}: {exc})") from None
    return trained_encoder(name, info["base"], head, info, info.get("weights_sha256", "")[:16], device)


def delete_trained(name: str) -> None:
    """Remove a trained model (its description first, so it is never half-listed)."""
    weights_path, info_path = _files(name)
    read_info(name)
    info_path.unlink()
    weights_path.unlink(missing_ok=True)
    forget_encoder(name)
