import io

import pytest

from facereid_engine.cli.progressbar import ProgressBar, drive
from facereid_engine.errors import Cancelled
from facereid_engine.progress import Progress, run


def _work(n: int, log: list):
    try:
        for i in range(n):
            yield Progress(i, n, f"step {i}")
        return "done"
    finally:
        log.append("closed")


def test_run_returns_the_result_and_reports_every_step():
    seen, log = [], []
    assert run(_work(5, log), seen.append) == "done"
    assert [e.done for e in seen] == [0, 1, 2, 3, 4]
    assert seen[2].fraction == pytest.approx(0.4)
    assert log == ["closed"]


def test_cancel_between_steps_closes_the_generator():
    seen, log = [], []
    with pytest.raises(Cancelled):
        run(_work(100, log), seen.append, should_stop=lambda: len(seen) >= 3)
    assert len(seen) == 3 and log == ["closed"]


def test_log_file_gets_a_line_per_five_percent_with_odd_steps():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream)
    for done in range(0, 1000, 32):  # batches of 32 never land on a multiple of 50
        bar(Progress(done, 1000, "batch"))
    bar(Progress(1000, 1000, "finished"))
    lines = stream.getvalue().splitlines()
    assert 20 <= len(lines) <= 22
    assert lines[-1].startswith("[" + "#" * 30 + "] 1000/1000 finished")


def test_drive_without_display_prints_nothing(capsys):
    assert drive(_work(3, []), show=False) == "done"
    assert capsys.readouterr().err == ""
