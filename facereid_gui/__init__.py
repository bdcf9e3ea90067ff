"""FaceReID's desktop app (PySide6): Compare, Albums and Charts pages over one engine worker thread."""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the app (see :func:`facereid_gui.app.main`)."""
    from .app import main as _main
    return _main(argv)
