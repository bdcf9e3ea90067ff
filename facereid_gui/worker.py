"""The one worker thread that runs all engine work, and the UI-side handle the pages use.

A :class:`Job` is a function to call in the worker thread. If it returns a generator (the engine's
long work, see ``facereid_engine.progress``), the worker drives it, reports its ``Progress`` events
and stops between two steps when the job is cancelled; otherwise its return value is the result.

Jobs have a ``kind``. Submitting a job supersedes the job of the same kind that is still waiting
(it never runs) or running (it is asked to stop, and its result is dropped): moving a slider fast
therefore never piles up work. Jobs marked ``interleave`` may also run between two steps of a long
running job of another kind, so that a Compare request does not wait for a whole folder scan.
"""
from __future__ import annotations

import inspect
import itertools
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

# Nothing from facereid_engine is imported here at module level: importing the engine imports torch,
# which must happen in the worker thread, after the window has shown.

#: Seconds between two progress signals of one job (the last one, and those whose ``info`` has
#: ``keep`` set, always go through).
PROGRESS_INTERVAL = 0.05
#: How long a thread may run Python code before another one waiting for the GIL gets it: shorter than
#: Python's 5 ms default, so that the UI thread gets it back quickly from the worker.
SWITCH_INTERVAL = 0.001

_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One request for the worker. Callbacks run in the UI thread."""

    kind: str
    fn: Callable[[], Any]
    label: str = ""
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_progress: Callable[[Any], None] | None = None
    on_cancelled: Callable[[], None] | None = None
    interleave: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    cancelled: bool = False  # asked to stop (by the user or by a newer job of its kind)
    superseded: bool = False  # a newer job of the same kind replaced it: drop whatever it produces

    def cancel(self) -> None:
        self.cancelled = True


class _Runner(QObject):
    """Lives in the worker thread: takes jobs from the queue and runs them, one at a time."""

    started = Signal(object)  # Job
    progress = Signal(object, object)  # Job, Progress
    result = Signal(object, object)  # Job, value
    error = Signal(object, object)  # Job, exception
    cancelled = Signal(object)  # Job
    idle = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Condition()
        self._pending: OrderedDict[str, Job] = OrderedDict()
        self._stopping = False
        self._running: list[Job] = []  # the job being run, and under it any long job it interleaves with
        self.at_exit: list[Callable[[], None]] = []  # run in the worker thread when it stops

    @property
    def current(self) -> Job | None:
        with self._lock:
            return self._running[-1] if self._running else None

    # -- called from the UI thread -----------------------------------------------------------
    def put(self, job: Job) -> None:
        with self._lock:
            old = self._pending.pop(job.kind, None)
            if old is not None:
                old.superseded = old.cancelled = True
            for running in self._running:
                if running.kind == job.kind:
                    running.superseded = running.cancelled = True
            self._pending[job.kind] = job
            self._lock.notify_all()

    def drop(self, kind: str | None = None) -> list[Job]:
        """Remove waiting jobs (of one kind, or all) and cancel the running one; return those removed."""
        with self._lock:
            kinds = list(self._pending) if kind is None else [kind]
            removed = [self._pending.pop(k) for k in kinds if k in self._pending]
            for job in removed:
                job.cancelled = True
            for running in self._running:
                if kind is None or running.kind == kind:
                    running.cancelled = True
            return removed

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for job in self._pending.values():
                job.cancelled = True
            self._pending.clear()
            for running in self._running:
                running.cancelled = True
            self._lock.notify_all()

    def busy(self) -> bool:
        with self._lock:
            return bool(self._running) or bool(self._pending)

    # -- the worker thread --------------------------------------------------------------------
    def _take(self, block: bool, interleaving: bool = False) -> Job | None:
        """The next job, already marked running (in the same lock as it leaves the queue: in between,
        :meth:`busy` would say the worker is idle while a job is about to run)."""
        with self._lock:
            while True:
                if self._stopping:
                    return None
                for kind, job in self._pending.items():
                    if not interleaving or job.interleave:
                        del self._pending[kind]
                        self._running.append(job)
                        return job
                if not block:
                    return None
                self._lock.wait()

    @Slot()
    def loop(self) -> None:
        """Run jobs until :meth:`stop`; connected to ``QThread.started``."""
        while True:
            job = self._take(block=True)
            if job is None:
                break
            self._run(job)
            with self._lock:
                empty = not self._pending
            if empty:
                self.idle.emit()
        for fn in self.at_exit:
            try:
                fn()
            except Exception:  # closing must go on whatever happens
                pass
        QThread.currentThread().quit()

    def _run(self, job: Job) -> None:
        """Run ``job`` (taken by :meth:`_take`, so already in ``_running``)."""
        from facereid_engine.errors import Cancelled

        self.started.emit(job)
        try:
            value = job.fn()
            if inspect.isgenerator(value):
                value = self._drive(job, value)
        except Cancelled:
            self.cancelled.emit(job)
        except Exception as exc:  # every failure goes to the page concerned, never a crash
            self.error.emit(job, exc)
        else:
            self.result.emit(job, value)
        finally:
            with self._lock:
                self._running.remove(job)

    def _drive(self, job: Job, gen) -> Any:
        from facereid_engine.errors import Cancelled

        last = 0.0
        try:
            while True:
                if job.cancelled or self._stopping:
                    raise Cancelled("cancelled")
                try:
                    event = next(gen)
                except StopIteration as stop:
                    return stop.value
                now = time.monotonic()
                total = getattr(event, "total", 0)
                keep = bool(getattr(event, "info", {}).get("keep"))  # an event the page must see
                if keep or now - last >= PROGRESS_INTERVAL or getattr(event, "done", 0) >= total:
                    last = now
                    self.progress.emit(job, event)
                # Quick jobs (for example a Compare request) do not wait for a long scan to end.
                while not (job.cancelled or self._stopping):
                    quick = self._take(block=False, interleaving=True)
                    if quick is None:
                        break
                    self._run(quick)
                    self.started.emit(job)
        finally:
            gen.close()


class EngineWorker(QObject):
    """The UI thread's handle on the worker thread: submit jobs, cancel them, stop the thread.

    ``activity`` carries words for the status bar ("" when idle); ``job_progress`` carries the
    (label, Progress) of the job being run.
    """

    activity = Signal(str)
    job_progress = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("facereid-worker")
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.loop)
        self._runner.started.connect(self._on_started)
        self._runner.progress.connect(self._on_progress)
        self._runner.result.connect(self._on_result)
        self._runner.error.connect(self._on_error)
        self._runner.cancelled.connect(self._on_cancelled)
        self._runner.idle.connect(self._on_idle)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._thread.start()
        self._stopped = False

    # -- API for the pages --------------------------------------------------------------------
    def submit(self, kind: str, fn: Callable[[], Any], *, label: str = "",
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[Any], None] | None = None,
               on_cancelled: Callable[[], None] | None = None,
               interleave: bool = False) -> Job:
        """Queue ``fn`` (run in the worker thread); a newer job of the same ``kind`` supersedes this one."""
        job = Job(kind, fn, label or kind, on_result, on_error, on_progress, on_cancelled, interleave)
        if self._stopped:
            job.cancelled = True
            return job
        self._runner.put(job)
        return job

    def cancel(self, kind: str | None = None) -> None:
        """Cancel the jobs of ``kind`` (all when None): drop waiting ones, stop the running one at its next step."""
        for job in self._runner.drop(kind):
            if job.on_cancelled is not None:
                job.on_cancelled()

    def at_exit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the worker thread when it stops (for example to close the library)."""
        self._runner.at_exit.append(fn)

    def is_busy(self) -> bool:
        return self._runner.busy()

    def running_kind(self) -> str | None:
        job = self._runner.current
        return None if job is None else job.kind

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Cancel everything and stop the thread, waiting for the job in progress to reach a step."""
        if self._stopped:
            return True
        self._stopped = True
        self._runner.stop()
        self._thread.quit()
        done = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        return bool(done)

    # -- signals from the worker thread (delivered in the UI thread) --------------------------
    def _on_started(self, job: Job) -> None:
        if not job.superseded:
            self.activity.emit(job.label)

    def _on_progress(self, job: Job, event) -> None:
        if job.superseded:
            return
        self.job_progress.emit(job.label, event)
        if job.on_progress is not None and not job.cancelled:
            job.on_progress(event)

    def _on_result(self, job: Job, value) -> None:
        if job.superseded or self._stopped:
            return
        if job.on_result is not None:
            job.on_result(value)

    def _on_error(self, job: Job, exc: BaseException) -> None:
        if job.superseded or self._stopped:
            return
        if job.on_error is not None:
            job.on_error(exc)
        else:
            self.activity.emit(f"{job.label}: {exc}")

    def _on_cancelled(self, job: Job) -> None:
        if job.superseded or self._stopped:
            return
        if job.on_cancelled is not None:
            job.on_cancelled()

    def _on_idle(self) -> None:
        if not self._runner.busy():
            self.activity.emit("")
