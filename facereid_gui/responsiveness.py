"""How long the UI thread's event loop was blocked: measured by the GUI tests and the benchmarks.

:class:`GapMeter` ticks a 10 ms timer in the UI thread; the longest gap between two ticks is how long
the event loop was blocked. With ``watchdog`` set, a blocked loop also dumps every thread's Python
stack (``faulthandler``, which needs no GIL) so that whoever held the GIL is named.
"""
from __future__ import annotations

import faulthandler
import threading
import time

from PySide6.QtCore import QTimer


class GapMeter:
    """A 10 ms timer in the UI thread; the longest gap between two ticks is how long the event loop
    was blocked.

    On a shared machine the OS alone delays a sleeping thread now and then (measured here: ~100 ms
    stalls in a process that only sleeps), which is not the app blocking its loop. So each gap is
    also read from the thread's own counters (Linux ``/proc/self/task/<tid>/``): if the thread slept
    through the gap (at most two voluntary context switches: the event loop's wait), only the CPU time
    it ran counts; if it woke and waited more (the GIL or a lock: a switch every millisecond) or ran,
    the gap counts, less the time it was runnable but had no CPU. ``raw_worst`` is the plain gap.

    ``watchdog``: a file; when the loop is blocked longer than ``watchdog_s``, every thread's stack is
    written to it (at most once per block).
    """

    def __init__(self, watchdog=None, watchdog_s: float = 0.25) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.worst = self.raw_worst = 0.0
        self.worst_at = 0.0  # seconds after start() when the worst gap ended
        self.ticks = 0
        self.gaps: list[tuple[float, float]] = []  # (seconds after start, blocked ms) of gaps over 50 ms
        self._last: tuple | None = None
        self._started = 0.0
        self._task = f"/proc/self/task/{threading.get_native_id()}"
        self.watchdog, self.watchdog_s = watchdog, watchdog_s

    def _counters(self) -> tuple[float, float, float, int]:
        """(now ms, CPU ms, run-queue wait ms, voluntary switches) of the UI thread."""
        now = time.monotonic() * 1000
        try:
            with open(f"{self._task}/schedstat") as f:
                ran, waited = (int(v) / 1e6 for v in f.read().split()[:2])
            with open(f"{self._task}/status") as f:
                switches = int(f.read().split("voluntary_ctxt_switches:")[1].split()[0])
        except (OSError, IndexError, ValueError):  # not Linux: plain gaps
            return now, 0.0, 0.0, 1 << 30
        return now, ran, waited, switches

    def start(self) -> None:
        self._last = self._counters()
        self._started = self._last[0]
        self._arm()
        self.timer.start()

    def _arm(self) -> None:
        if self.watchdog is not None:
            faulthandler.dump_traceback_later(self.watchdog_s, repeat=False, file=self.watchdog)

    def _tick(self) -> None:
        current = self._counters()
        gap, ran, waited, switches = (a - b for a, b in zip(current, self._last))
        blocked = ran if switches <= 2 else gap - waited
        self.raw_worst = max(self.raw_worst, gap)
        if blocked > self.worst:
            self.worst, self.worst_at = blocked, (current[0] - self._started) / 1000
        if blocked > 50:
            self.gaps.append(((current[0] - self._started) / 1000, blocked))
        self._last = current
        self.ticks += 1
        self._arm()

    def stop(self) -> None:
        self.timer.stop()
        if self.watchdog is not None:
            faulthandler.cancel_dump_traceback_later()
