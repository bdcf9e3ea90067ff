"""``facereid-gui`` / ``python -m facereid_gui``: start the app, or render each page to a PNG."""
from __future__ import annotations

import argparse
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facereid-gui", description="FaceReID's desktop app.")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="render each page to DIR/<page>.png once the work below is done, then exit")
    parser.add_argument("--compare", nargs=2, metavar=("PHOTO_A", "PHOTO_B"),
                        help="open these two photos on the Compare page")
    parser.add_argument("--albums", metavar="FOLDER", help="scan this folder of photos on the Albums page")
    parser.add_argument("--pairs", metavar="FILE", help="evaluate this LFW-format pairs file on the Charts page")
    parser.add_argument("--images", metavar="DIR", help="image folder of --pairs")
    parser.add_argument("--encoders", metavar="A,B", help="encoders --pairs evaluates (default: those ticked last time)")
    parser.add_argument("--size", default="1280x820", help="window size for --screenshot (WIDTHxHEIGHT)")
    parser.add_argument("--startup-time", action="store_true",
                        help="print how long the window took to show, then exit")
    return parser


def _since_process_start() -> float | None:
    """Seconds since this process started (Linux), to report the real start-up time."""
    try:
        import os

        fields = open(f"/proc/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(open("/proc/uptime").read().split()[0])
        return uptime - started
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)

    from PySide6.QtWidgets import QApplication

    from facereid_engine.errors import FaceReIDError

    from .main_window import MainWindow
    from .resources import icon

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("FaceReID")
    app.setOrganizationName("FaceReID")
    app.setWindowIcon(icon("facereid"))
    try:
        window = MainWindow()
    except FaceReIDError as exc:  # e.g. FACEREID_HOME is not a folder: nothing can be kept, say why
        print(f"facereid-gui: error: {exc}", file=sys.stderr)
        return 2
    if args.screenshot:
        width, _, height = args.size.partition("x")
        window.resize(int(width), int(height))
    window.show()
    if args.startup_time:
        app.processEvents()
        total = _since_process_start()
        print(f"window shown {time.perf_counter() - started:.3f} s after main() started"
              + ("" if total is None else f", {total:.2f} s after the process started"))
        window.close()
        return 0
    from .scripted import start_scripted_work
    start_scripted_work(window, args)
    if args.screenshot:
        from .scripted import take_screenshots
        take_screenshots(window, args.screenshot)
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
