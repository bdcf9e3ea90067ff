"""``facereid``: the command-line interface. Each sub-command lives in its own module.

A sub-command module defines ``register(subparsers)`` which adds its parser and sets
``func=run`` where ``run(args) -> int`` returns the exit code. Errors of the engine's own types
become one line on stderr and exit code 2; nothing prints a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import FaceReIDError

# Sub-command modules, in the order ``--help`` lists them.
_COMMAND_MODULES = ("faces", "eval", "albums", "train", "encoders")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facereid", description="Face re-identification: verify, detect, "
                                     "embed, evaluate, group photos into albums, train.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # that command is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FaceReIDError as exc:
        print(f"facereid: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facereid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``facereid ... | head``): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
