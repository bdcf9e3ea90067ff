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

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and event.done < event.total):
            return
        self._last = now
        filled = int(self.width * event.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        msg = event.message[-50:]
        tty = getattr(self.stream, "isatty", lambda: False)()
        end = "\r" if tty else "\n"
        if not tty and event.done not in (0, event.total) and event.done % max(1, event.total // 20):
            return  # a log file gets about 20 lines, not one per step
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
