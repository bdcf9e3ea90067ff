"""The Compare page's answer: the verdict in words, the numbers, and where the distance falls on LFW."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from .mpl_canvas import make_canvas

SAME_COLOUR, DIFFERENT_COLOUR = "#2e7d32", "#c62828"


class VerdictPanel(QFrame):
    """Shows :meth:`show_verdict` or :meth:`show_waiting`; the chart is created on first use."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.verdict = QLabel("")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.verdict.setFont(font)
        self.details = QLabel("")
        self.details.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(self.details.fontMetrics().lineSpacing() * 3)  # room for a long reason
        self.decided_by = QLabel("")
        self.decided_by.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.decided_by.setToolTip("The encoder that turned both faces into the vectors compared")
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.verdict)
        self._layout.addWidget(self.decided_by)
        self._layout.addWidget(self.details)
        self.canvas = None
        self.same: bool | None = None
        self.distance: float | None = None
        self.encoder: str | None = None  # the encoder that decided the verdict shown
        self.show_waiting("Drop two photos, one on each side, to compare them.")

    def _ensure_canvas(self):
        if self.canvas is None:
            self.canvas = make_canvas(4.2, 1.9, self)
            self.canvas.setMinimumHeight(150)
            self._layout.addWidget(self.canvas, 1)
        return self.canvas

    def show_waiting(self, text: str) -> None:
        self.same = None
        self.distance = None
        self.encoder = None
        self.decided_by.setText("")
        self.verdict.setText("")
        self.verdict.hide()  # the message alone, with room for a long reason
        self.decided_by.hide()
        self.verdict.setStyleSheet("")
        self.details.setText(text)
        if self.canvas is not None:  # hidden, not left as an empty white box under the message
            self.canvas.figure.clear()
            self.canvas.hide()

    def show_verdict(self, same: bool, distance: float, threshold: float, distance_name: str,
                     encoder: str, reference=None) -> None:
        """``reference``: an :class:`~facereid_gui.jobs.lfw_reference.Reference` or None."""
        self.same = same
        self.distance = distance
        self.encoder = encoder
        self.verdict.setText("Same person" if same else "Different people")
        self.verdict.show()
        self.decided_by.show()
        self.verdict.setStyleSheet(f"color: {SAME_COLOUR if same else DIFFERENT_COLOUR};")
        self.decided_by.setText(f"decided by the encoder <b>{escape(encoder)}</b>")
        relation = "≤" if same else ">"  # NaN (never a match) shows as ">"
        self.details.setText(f"{distance_name} distance <b>{distance:.4f}</b> {relation} threshold "
                             f"<b>{threshold:.4f}</b>")
        self._draw(distance, threshold, same, distance_name, encoder, reference)

    def _draw(self, distance, threshold, same, distance_name, encoder, reference) -> None:
        from facereid_engine.evaluation.charts import draw_histograms

        canvas = self._ensure_canvas()
        canvas.show()
        figure = canvas.figure
        figure.clear()
        ax = figure.add_subplot(111)
        ax.tick_params(labelsize=7)
        if reference is None:
            ax.text(0.5, 0.5, f"No LFW distances measured for {encoder} / {distance_name} yet",
                    ha="center", va="center", fontsize=8, transform=ax.transAxes)
            ax.set_yticks([])
            ax.axvline(threshold, color="0.3", linestyle="--", linewidth=1)
            ax.axvline(distance, color=SAME_COLOUR if same else DIFFERENT_COLOUR, linewidth=2.5)
            ax.set_xlabel(f"{distance_name} distance", fontsize=8)
        else:
            draw_histograms(ax, reference.edges, reference.matched, reference.mismatched,
                            threshold=threshold, value=distance)
            matched, mismatched = reference.fraction_below(distance)
            ax.set_title(f"LFW pairs at this distance or closer: {matched:.1%} of same-person pairs, "
                         f"{mismatched:.1%} of different-people pairs", fontsize=8)
            ax.set_xlim(reference.edges[0], max(reference.edges[-1], distance * 1.05))
            ax.set_yticks([])
            ax.set_ylabel("")
            ax.set_xlabel(f"{distance_name} distance ({encoder})", fontsize=8)
            legend = ax.get_legend()
            if legend is not None:
                for text in legend.get_texts():
                    text.set_fontsize(7)
        canvas.draw_idle()
