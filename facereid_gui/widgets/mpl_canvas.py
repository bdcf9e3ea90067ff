"""A matplotlib figure inside the window (``FigureCanvasQTAgg``), sized for a page."""
from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy, QWidget


def _canvas_class():
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    return FigureCanvasQTAgg


def make_canvas(width: float = 5.0, height: float = 3.0, parent: QWidget | None = None):
    """A ``FigureCanvasQTAgg`` with an empty figure of the given size (inches) and constrained layout."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    canvas = _canvas_class()(figure)
    canvas.setParent(parent)
    canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return canvas
