"""A plain text progress bar on stderr for the engine's generators (see ``progress.py``)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..progress import Progress, Work, run


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 30, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = enabled
        self._last = 0.0
        self._shown = False
        self._step = -1

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if not self.enabled:
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        if tty and now - self._last < 0.1 and event.done < event.total:
            return  # a terminal is redrawn at most 10 times a second
        step = event.done * 20 // max(event.total, 1)
        if not tty and step == self._step and event.done < event.total:
            return  # a log file gets a line per 5 %, not one per step
        self._last, self._step = now, step
        filled = int(self.width * event.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        msg = event.message[-50:]
        end = "\r" if tty else "\n"
        self.stream.write(f"[{bar}] {event.done}/{event.total} {msg}".ljust(self.width + 70) + end)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")
            self.stream.flush()


def drive(work: Work, show: bool = True):
    """Run ``work`` to its end with a progress bar on stderr; return its result."""
    bar = ProgressBar(enabled=show)
    try:
        return run(work, bar)
    finally:
        bar.close()
