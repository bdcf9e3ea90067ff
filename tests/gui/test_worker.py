"""The worker thread: results, progress, errors, superseding, cancelling, interleaving, shutdown."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from facereid_engine.errors import ImageLoadError
from facereid_engine.progress import Progress
from facereid_gui.worker import EngineWorker


@pytest.fixture
def worker(qtbot):
    w = EngineWorker()
    yield w
    assert w.shutdown(5000)


def counting(n: int, delay: float = 0.0, log: list | None = None):
    for i in range(n):
        if log is not None:
            log.append(i)
        time.sleep(delay)
        yield Progress(i + 1, n, f"step {i + 1}")
    return n * 10


def test_plain_result_runs_in_the_worker_thread(qtbot, worker):
    got = []
    with qtbot.waitSignal(worker.activity, check_params_cb=lambda text: text == "", timeout=5000):
        worker.submit("a", lambda: (threading.current_thread() is threading.main_thread(),
                                    QThread.currentThread().objectName()), on_result=got.append)
    assert got == [(False, "facereid-worker")]


def test_generator_progress_and_result(qtbot, worker):
    got, events = [], []
    worker.submit("gen", lambda: counting(5, 0.06), on_result=got.append, on_progress=events.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == [50]
    assert events[-1].done == 5 and events[-1].total == 5
    assert [e.done for e in events] == sorted(e.done for e in events)


def test_error_goes_to_the_job_not_a_crash(qtbot, worker):
    errors = []

    def bad():
        raise ImageLoadError("/nowhere.jpg", "file not found")

    worker.submit("bad", bad, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ImageLoadError) and errors[0].path == "/nowhere.jpg"
    got = []
    worker.submit("after", lambda: 1, on_result=got.append)  # the worker keeps working
    qtbot.waitUntil(lambda: got == [1], timeout=5000)


def test_newer_job_supersedes_a_waiting_and_a_running_one(qtbot, worker):
    gate = threading.Event()
    ran, results = [], []
    worker.submit("block", lambda: gate.wait(5))
    for i in range(20):  # a slider dragged fast: 20 requests while the worker is busy
        worker.submit("slider", lambda i=i: ran.append(i) or i, on_result=results.append)
    gate.set()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    qtbot.wait(100)
    assert ran == [19] and results == [19]

    log, stale, fresh = [], [], []
    worker.submit("scan", lambda: counting(200, 0.01, log), on_result=stale.append)
    qtbot.waitUntil(lambda: len(log) > 3, timeout=5000)
    worker.submit("scan", lambda: counting(2), on_result=fresh.append)
    qtbot.waitUntil(lambda: bool(fresh), timeout=5000)
    assert fresh == [20] and stale == [] and len(log) < 200


def test_cancel_stops_between_two_steps(qtbot, worker):
    log, results, cancelled = [], [], []
    worker.submit("scan", lambda: counting(500, 0.01, log), on_result=results.append,
                  on_cancelled=lambda: cancelled.append(True))
    qtbot.waitUntil(lambda: len(log) >= 3, timeout=5000)
    worker.cancel("scan")
    qtbot.waitUntil(lambda: bool(cancelled), timeout=5000)
    steps = len(log)
    qtbot.wait(100)
    assert results == [] and len(log) == steps < 500


def test_quick_jobs_interleave_with_a_long_one(qtbot, worker):
    log, quick, long_done = [], [], []
    worker.submit("scan", lambda: counting(300, 0.01, log), on_result=long_done.append)
    qtbot.waitUntil(lambda: len(log) >= 2, timeout=5000)
    worker.submit("compare", lambda: len(log), on_result=quick.append, interleave=True)
    qtbot.waitUntil(lambda: bool(quick), timeout=5000)
    assert not long_done and quick[0] < 300
    worker.cancel("scan")


def test_shutdown_while_a_generator_runs(qtbot):
    worker = EngineWorker()
    log, closed = [], []

    def work():
        try:
            yield from counting(10_000, 0.005, log)
        finally:
            closed.append(True)

    worker.submit("scan", work)
    qtbot.waitUntil(lambda: len(log) >= 3, timeout=5000)
    t = time.monotonic()
    assert worker.shutdown(5000)
    assert time.monotonic() - t < 1.0
    assert closed == [True] and len(log) < 10_000
    assert worker.submit("late", lambda: 1).cancelled
