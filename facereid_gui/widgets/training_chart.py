"""The Train page's chart: loss (training and validation) and validation accuracy per epoch."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from .mpl_canvas import make_canvas

EMPTY_TEXT = ("No training yet: choose the data and the model, then press Train.\n"
              "Loss and accuracy appear here, epoch by epoch.")
WAITING_TEXT = "Training: the first epoch appears here once it ends."


class TrainingChart(QWidget):
    """Redrawn as epochs arrive; before the first epoch it shows a sentence, not empty axes.

    ``loss_axes`` and ``accuracy_axes`` exist once an epoch is drawn (None before).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666;")
        self.canvas = None  # created with the first epoch (matplotlib is imported then)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        QVBoxLayout(self).addWidget(self.stack)
        self.loss_axes = self.accuracy_axes = None
        self.epochs: list[dict] = []
        self.reference: float | None = None
        self.reference_label = ""
        self.live_draws = 0  # redraws while training ran (not counting the final one)

    def is_empty(self) -> bool:
        """True while no epoch is shown (the sentence is)."""
        return self.stack.currentWidget() is self.empty

    def reset(self, reference_label: str = "", text: str = EMPTY_TEXT) -> None:
        """Forget the epochs; ``text`` is shown until the first one arrives."""
        self.epochs, self.reference, self.reference_label = [], None, reference_label
        self.live_draws = 0
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def show_history(self, history: list[dict], reference: float | None, live: bool = True) -> None:
        """Draw every epoch so far (``history``) and the plain distance's accuracy (``reference``)."""
        self.epochs = list(history)
        self.reference = reference
        self.live_draws += int(live)
        if self.epochs:
            self._draw()
        else:
            self.stack.setCurrentWidget(self.empty)

    def _draw(self) -> None:
        if self.canvas is None:
            self.canvas = make_canvas(7.0, 5.0, self)
            self.stack.addWidget(self.canvas)
        fig = self.canvas.figure
        fig.clear()
        self.loss_axes, self.accuracy_axes = fig.subplots(2, 1, sharex=True)
        x = [r["epoch"] for r in self.epochs]
        self.loss_axes.plot(x, [r["loss"] for r in self.epochs], "o-", ms=3, label="training")
        self.loss_axes.plot(x, [r["val_loss"] for r in self.epochs], "o-", ms=3, label="validation")
        self.loss_axes.set_ylabel("loss (cross-entropy)")
        self.accuracy_axes.plot(x, [r["val_accuracy"] for r in self.epochs], "o-", ms=3, color="C2",
                                label="validation accuracy")
        if self.reference is not None:
            self.accuracy_axes.axhline(self.reference, color="0.4", ls="--", lw=1, label=self.reference_label)
        self.accuracy_axes.set_ylabel("validation accuracy")
        self.accuracy_axes.set_xlabel("epoch")
        for ax in (self.loss_axes, self.accuracy_axes):
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize="small")
        self.stack.setCurrentWidget(self.canvas)
        self.canvas.draw_idle()
