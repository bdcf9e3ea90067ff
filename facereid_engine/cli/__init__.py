"""``facereid``: the command-line interface. Each sub-command lives in its own module.

A sub-command module defines ``register(subparsers)`` which adds its parser and sets
``func=run`` where ``run(args) -> int`` returns the exit code. Every error of every command goes
through one boundary, :func:`main`: one line on stderr (see :func:`error_line`) and exit code 2, so
that 1 keeps the meaning ``verify`` gives it (different people). Nothing prints a traceback unless
``FACEREID_DEBUG=1`` asks for one. Ctrl+C exits 130, a closed pipe 141, argparse's usage errors 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sqlite3
import sys
import traceback

from ..errors import FaceReIDError

# Sub-command modules, in the order ``--help`` lists them.
_COMMAND_MODULES = ("faces", "eval", "albums", "index", "train", "encoders")

#: Exit code of every error (argparse's usage errors use it too).
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facereid", description="Face re-identification: verify, detect, "
                                     "embed, evaluate, group photos into albums, train.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


# -- argument types: validated by argparse, so a bad value is a usage error (exit 2) -------------------
def finite_float(text: str) -> float:
    """A float option that must be a finite number (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number")
    return value


def int_range(low: int, high: int | None = None):
    """An int option that must lie in ``low..high`` (no upper bound when ``high`` is None)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value}: must be {span}")
        return value
    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


def _finite_or_none(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def dumps(payload, **options) -> str:
    """Standard JSON (RFC 8259) for the commands' output: NaN and infinities, which ``json.dumps``
    would write as the non-standard ``NaN`` / ``Infinity``, become ``null``."""
    return json.dumps(_finite_or_none(payload), allow_nan=False, **options)


# -- the one error boundary -------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_line(exc: BaseException, subject: str | None = None) -> str:
    """One line that tells the user what went wrong (without the ``facereid: error:`` prefix).

    ``subject`` names what was being worked on (a file) when the exception does not say it.
    """
    if isinstance(exc, FaceReIDError):
        return _one_line(str(exc))
    if isinstance(exc, MemoryError):
        what = subject or "this command"
        return _one_line(f"not enough memory for {what}")
    if isinstance(exc, OSError):
        names = [n for n in (exc.filename, exc.filename2) if n is not None]
        where = " -> ".join(os.fsdecode(n) if isinstance(n, bytes) else str(n) for n in names) or subject
        cause = exc.strerror or str(exc) or type(exc).__name__
        return _one_line(f"{where}: {cause}" if where else cause)
    if isinstance(exc, sqlite3.Error):
        where = f"{subject}: " if subject else ""
        return _one_line(f"{where}library database error: {exc}")
    where = f"{subject}: " if subject else ""
    return _one_line(f"{where}internal error: {type(exc).__name__}: {exc} "
                     f"(rerun with FACEREID_DEBUG=1 to see the traceback)")


def report_error(exc: BaseException, subject: str | None = None) -> str:
    """Print ``exc`` as one line on stderr (and its traceback when FACEREID_DEBUG=1); return the line."""
    line = error_line(exc, subject)
    if os.environ.get("FACEREID_DEBUG", "") not in ("", "0"):
        traceback.print_exception(exc, file=sys.stderr)
    print(f"facereid: error: {line}", file=sys.stderr, flush=True)
    return line


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2, with argparse's message printed)
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("facereid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``facereid ... | head``): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # the boundary: every error is one line and exit 2
        report_error(exc)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
