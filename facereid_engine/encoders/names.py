"""Composite encoder names: a model trained on a base encoder is called ``<base>+<model>``.

The one place that reads and writes that rule. Built-in names never contain ``+``.
"""
from __future__ import annotations

SEPARATOR = "+"


def split_trained(name: str) -> tuple[str, str] | None:
    """``(base, model)`` when ``name`` is a trained model's ``<base>+<model>``, else ``None``."""
    base, sep, model = str(name).partition(SEPARATOR)
    if not sep or not base or not model:
        return None
    return base, model


def trained_name(base: str, model: str) -> str:
    """``<base>+<model>``."""
    return f"{base}{SEPARATOR}{model}"


def is_trained(name: str) -> bool:
    return split_trained(name) is not None
