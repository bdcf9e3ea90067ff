"""How long the window's event loop is blocked while the app starts and scans a folder, from cold.

Each run is a new process with a new FaceReID home (no parsed-model cache, no library). ``--cold``
makes it colder still, as on a fresh clone: the app's sources are copied without their ``__pycache__``
(every module compiled again), the user is new (empty home: fontconfig and matplotlib build their
font caches again) and the pages of the virtual environment's and the models' files are
dropped from the OS cache (``posix_fadvise(DONTNEED)``, so shared libraries are read from disk again).
Then the same scan runs again warm (a second process, same home) for the reference.

A stall over ``--watchdog`` seconds writes every thread's Python stack (faulthandler) to
``<out>.stalls.txt``: the frame of the thread that held the GIL is the culprit.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_responsiveness.py --cold
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import GROUP, ROOT, report


def drop_from_page_cache(folders: list[Path]) -> int:
    """Ask the OS to forget the cached pages of every file under ``folders``; returns the bytes concerned."""
    total = 0
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(dirpath, name)
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    total += os.fstat(fd).st_size
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
    return total


def child(args) -> dict:
    """Run in the measured process: show the window, let it start, scan, report the stalls."""
    source = os.environ.get("FACEREID_BENCH_SOURCE")
    if source:  # the copy of the sources, not the checkout the editable install points at
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")
                            and "editable" not in type(f).__name__.lower() and "editable" not in repr(f)]
        sys.path.insert(0, source)
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    started = time.monotonic()
    app = QApplication.instance() or QApplication(["bench"])
    from facereid_gui.main_window import MainWindow
    from facereid_gui.responsiveness import GapMeter

    stalls = open(args.stalls, "a") if args.stalls else None

    def wait(condition, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the app did not get there in time")
            QCoreApplication.processEvents()
            time.sleep(0.002)

    window = MainWindow(QSettings(str(Path(args.home) / "bench.ini"), QSettings.Format.IniFormat))
    startup_meter = GapMeter(stalls, args.watchdog)
    startup_meter.start()
    window.show()
    page = window.page("Albums")
    window.tabs.setCurrentWidget(page)
    wait(lambda: window.engine is not None and page.snapshot is not None and not window.worker.is_busy(), 600)
    startup_meter.stop()
    ready = time.monotonic() - started
    if stalls:
        stalls.write(f"==== scan starts ({ready:.1f} s after the process started) ====\n")
        stalls.flush()
    meter = GapMeter(stalls, args.watchdog)
    meter.start()
    scan_started = time.monotonic()
    page.scan_folder(args.photos)
    wait(lambda: not page.scanning, 1200)
    meter.stop()
    seconds = time.monotonic() - scan_started
    result = {
        "photos": page.snapshot.counts.get("photos") if page.snapshot else None,
        "ready_s": round(ready, 2), "scan_s": round(seconds, 2),
        "startup_worst_ms": round(startup_meter.worst), "startup_raw_worst_ms": round(startup_meter.raw_worst),
        "scan_worst_ms": round(meter.worst), "scan_worst_at_s": round(meter.worst_at, 2),
        "scan_raw_worst_ms": round(meter.raw_worst), "scan_ticks": meter.ticks,
        "scan_gaps_over_50ms": [(round(t, 2), round(ms)) for t, ms in meter.gaps],
        "engine_threads": window.engine.device if window.engine else None,
    }
    window.close()
    app.processEvents()
    return result


def run_child(source_root: Path, home: Path, photos: Path, stalls: Path | None, watchdog: float,
              user_home: Path | None = None) -> dict:
    env = dict(os.environ, FACEREID_HOME=str(home), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    if source_root != ROOT:
        env["FACEREID_BENCH_SOURCE"] = str(source_root)
    if user_home is not None:  # a new user: no font caches (fontconfig, matplotlib), no settings
        env.setdefault("TORCH_HOME", str(Path.home() / ".cache" / "torch"))
        env.update(HOME=str(user_home), XDG_CACHE_HOME=str(user_home / ".cache"),
                   XDG_CONFIG_HOME=str(user_home / ".config"), MPLCONFIGDIR=str(user_home / ".config" / "mpl"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--home", str(home), "--photos", str(photos),
           "--watchdog", str(watchdog)] + (["--stalls", str(stalls)] if stalls else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(source_root))
    if done.returncode:
        raise SystemExit(f"the measured process failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true",
                        help="as on a fresh clone and machine: a copy of the sources without bytecode, a new user (no font "
                        "caches), the environment's files out of the OS cache")
    parser.add_argument("--photos", default=str(GROUP), help="folder to scan (default: the group photos)")
    parser.add_argument("--watchdog", type=float, default=0.25, help="dump the threads' stacks on stalls longer than this")
    parser.add_argument("--out", help="write the JSON here (and the stalls next to it)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--stalls", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    with tempfile.TemporaryDirectory(prefix="facereid-bench-gui-") as tmp:
        tmp = Path(tmp)
        photos = tmp / "photos"
        shutil.copytree(args.photos, photos)
        source = ROOT
        dropped = 0
        if args.cold:
            source = tmp / "clone"
            for package in ("facereid_engine", "facereid_gui"):
                shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
            venv = Path(sys.prefix)
            dropped = drop_from_page_cache([venv, ROOT / "resources", source])
        stalls = Path(args.out + ".stalls.txt") if args.out else tmp / "stalls.txt"
        stalls.write_text("")
        user_home = tmp / "user" if args.cold else None
        if user_home is not None:
            user_home.mkdir()
        cold = run_child(source, tmp / "home", photos, stalls, args.watchdog, user_home)
        # The same scan again, warm: a new process, the same home, the library emptied.
        (tmp / "home" / "library.sqlite").unlink(missing_ok=True)
        with open(stalls, "a") as f:
            f.write("==== warm run ====\n")
        warm = run_child(source, tmp / "home", photos, stalls, args.watchdog, user_home)
        text = stalls.read_text()
        payload = {"cold": args.cold, "dropped_from_cache_mb": round(dropped / 2**20), "cpus": os.cpu_count(),
                   "first": cold, "again": warm, "stall_dumps": text.count("Thread 0x") and text.count("(most recent")}
        if not args.out:
            print(text[-6000:], file=sys.stderr)
        report("bench_gui_responsiveness", payload, args.out)


if __name__ == "__main__":
    main()
