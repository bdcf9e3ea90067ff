"""Work given on the command line (photos to compare, a folder to scan, pairs to evaluate) and
``--screenshot``: render each page to a PNG once the worker is idle, then quit."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

QUIET_MS = 1500  # the worker must stay idle this long before the pages are rendered
TIMEOUT_S = 900
MAX_PNG_BYTES = 300_000  # larger screenshots are saved with a 256-colour palette


def save_png(image, path: Path) -> None:
    """Save a ``QImage`` as a PNG, falling back to 256 colours when the full-colour file is large."""
    image.save(str(path), "PNG", 0)  # 0: the smallest file
    if path.stat().st_size > MAX_PNG_BYTES:
        from PIL import Image

        with Image.open(path) as full:
            small = full.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
        small.save(path, optimize=True)


def start_scripted_work(window, args: argparse.Namespace) -> None:
    """Queue the work named by ``--compare``, ``--albums`` and ``--pairs`` (with ``--encoders``)."""
    from .widgets.encoder_choice import Remembered, fill_checklist

    if args.compare:
        page = window.page("Compare")
        page.load(0, str(Path(args.compare[0]).resolve()))
        page.load(1, str(Path(args.compare[1]).resolve()))
    if args.albums:
        window.page("Albums").scan_folder(str(Path(args.albums).resolve()))
    if args.pairs:
        images = args.images or str(Path(args.pairs).resolve().parent / "images")
        charts = window.page("Charts")
        if getattr(args, "encoders", None):  # listed as remembered until the engine's cards arrive
            names = [e.strip() for e in args.encoders.split(",") if e.strip()]
            fill_checklist(charts.encoder_list, [Remembered(n) for n in names], set(names))
        charts.evaluate_pairs(str(Path(args.pairs).resolve()), images)


def take_screenshots(window, folder: str | Path) -> None:
    """When the worker has been idle for a while, save ``<folder>/<page title>.png`` for every page and quit."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    state = {"idle_since": None}

    def poll() -> None:
        now = time.monotonic()
        if window.worker.is_busy() and now - started < TIMEOUT_S:
            state["idle_since"] = None
            return
        if state["idle_since"] is None:
            state["idle_since"] = now
        if (now - state["idle_since"]) * 1000 < QUIET_MS and now - started < TIMEOUT_S:
            return
        timer.stop()
        for index, page in enumerate(window.pages):
            window.tabs.setCurrentIndex(index)
            for _ in range(5):
                QApplication.processEvents()
                time.sleep(0.05)
            path = folder / f"{page.title.lower()}.png"
            save_png(window.grab().toImage(), path)
            print(f"wrote {path}")
        window.close()
        QApplication.quit()

    timer = QTimer(window)
    timer.setInterval(200)
    timer.timeout.connect(poll)
    timer.start()
