"""The Charts page's figure: accuracy against threshold, ROC and histograms, with a movable threshold."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .mpl_canvas import make_canvas

LINE_COLOUR = "#d62828"


class EvaluationChart(QWidget):
    """Draws a list of ``DistanceResult`` and one chosen result's threshold, which :meth:`set_threshold`
    moves without redrawing the curves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._canvas = None  # made on first use: importing matplotlib must not delay the window
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._empty_text = ""
        self.results: list = []
        self.selected = None
        self._lines: list = []
        self._roc_point = None
        self._hist_line = None
        self._hist_label = None
        self.show_empty("No evaluation yet: choose a pair set and press Evaluate.")

    @property
    def canvas(self):
        if self._canvas is None:
            self._canvas = make_canvas(8.0, 6.0, self)
            self._layout.addWidget(self._canvas)
        return self._canvas

    @property
    def figure(self):
        return self.canvas.figure

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._canvas is None and not self.results:
            self.show_empty(self._empty_text)
        super().showEvent(event)

    def show_empty(self, text: str) -> None:
        self.results, self.selected = [], None
        self._lines, self._roc_point, self._hist_line = [], None, None
        self._empty_text = text
        if self._canvas is None and not self.isVisible():
            return
        self.figure.clear()
        self.figure.text(0.5, 0.5, text, ha="center", va="center", color="0.4")
        self.canvas.draw_idle()

    def axes(self) -> dict:
        """The axes drawn, by role (``accuracy``, ``roc``, ``histograms``); empty before any result."""
        return getattr(self, "_axes", {}) if self.results else {}

    def show_results(self, results: list, selected, threshold: float) -> None:
        """Draw every result's accuracy curve and ROC, and ``selected``'s histograms at ``threshold``."""
        from facereid_engine.evaluation.charts import draw_accuracy, draw_result_histograms, draw_roc

        self.results, self.selected = list(results), selected
        figure = self.figure
        figure.clear()
        grid = figure.add_gridspec(2, 2, height_ratios=[1.15, 1])
        ax_acc = figure.add_subplot(grid[0, :])
        ax_roc = figure.add_subplot(grid[1, 0])
        ax_hist = figure.add_subplot(grid[1, 1])
        self._axes = {"accuracy": ax_acc, "roc": ax_roc, "histograms": ax_hist}
        draw_accuracy(ax_acc, self.results)
        ax_acc.set_title("Accuracy against threshold (dashed: threshold chosen by the protocol)", fontsize=9)
        self._lines = [ax_acc.axvline(threshold, color=LINE_COLOUR, linewidth=1.8)]
        draw_roc(ax_roc, self.results)
        ax_roc.set_title("ROC", fontsize=9)
        fpr, tpr = self._rates(threshold)
        (self._roc_point,) = ax_roc.plot([max(fpr, 1e-4)], [tpr], "o", color=LINE_COLOUR, markersize=6)
        artists = draw_result_histograms(ax_hist, selected, threshold=threshold)
        self._hist_line = artists.thresholds.get("threshold")
        if self._hist_line is not None:
            self._hist_line.set_color(LINE_COLOUR)
            self._hist_line.set_linestyle("-")
            legend = ax_hist.legend(loc="upper right", fontsize="small")
            self._hist_label = next((t for t in legend.get_texts() if t.get_text().startswith("threshold")), None)
        for ax in (ax_acc, ax_roc, ax_hist):
            ax.tick_params(labelsize=8)
            for label in (ax.xaxis.label, ax.yaxis.label):
                label.set_fontsize(8)
        ax_hist.title.set_fontsize(9)
        self.canvas.draw_idle()

    def _rates(self, threshold: float) -> tuple[float, float]:
        d, same = self.selected.distances, self.selected.same
        accepted = d <= threshold  # is_same_person over an array: a NaN distance is never accepted
        n_same, n_diff = int(same.sum()), int((~same).sum())
        tpr = float(np.count_nonzero(accepted & same) / n_same) if n_same else 0.0
        fpr = float(np.count_nonzero(accepted & ~same) / n_diff) if n_diff else 0.0
        return fpr, tpr

    def set_threshold(self, threshold: float) -> None:
        """Move the threshold lines (and the ROC point) to ``threshold``."""
        if self.selected is None:
            return
        from facereid_engine.evaluation.charts import move_threshold_line

        for line in self._lines:
            move_threshold_line(line, threshold)
        if self._hist_line is not None:
            move_threshold_line(self._hist_line, threshold)
            if self._hist_label is not None:
                self._hist_label.set_text(f"threshold {threshold:.3f}")
        fpr, tpr = self._rates(threshold)
        self._roc_point.set_data([max(fpr, 1e-4)], [tpr])
        self.canvas.draw_idle()

    def threshold_line_x(self) -> float | None:
        return float(self._lines[0].get_xdata()[0]) if self._lines else None
