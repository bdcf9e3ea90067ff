"""Charts: evaluate encoders on a labelled pair set and draw accuracy, ROC and histograms."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QSpinBox, QSplitter, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from facereid_engine.defaults import DEFAULT_ENCODER  # light: no torch

from ..jobs.charts import PairSource, evaluate_source, load_last
from ..widgets.encoder_choice import Remembered, checklist_names, fill_checklist, set_checklist
from ..widgets.evaluation_chart import EvaluationChart
from ..widgets.threshold_control import ThresholdControl
from ..widgets.path_row import path_row, shown_path, typed_path
from ..widgets.run_controls import run_controls
from .base import Page

COLUMNS = ("Encoder", "Distance", "Accuracy", "Threshold", "AUC", "EER", "TAR@FAR 0.1%")


class ChartsPage(Page):
    title = "Charts"
    open_text = "Open Pairs File…"

    def __init__(self, worker, settings, parent: QWidget | None = None) -> None:
        super().__init__(worker, settings, parent)
        self.source: PairSource | None = None
        self.evaluation = None
        self.results: list = []  # DistanceResult, in table order
        self._build()
        self._redraw_timer = QTimer(self, singleShot=True, interval=30, timeout=self._move_threshold)

    def start(self) -> None:
        self.worker.submit("charts-restore", load_last, label="Reading the last evaluation",
                           on_result=self._restored, interleave=True)

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.settings
        self.kind_box = QComboBox()
        self.kind_box.addItem("LFW-format pairs file", "pairs")
        self.kind_box.addItem("Folder of people (one sub-folder each)", "people")
        self.pairs_edit = QLineEdit(shown_path(str(s.value("charts/pairs", ""))))
        self.pairs_edit.setPlaceholderText("pairs.txt")
        self.images_edit = QLineEdit(shown_path(str(s.value("charts/images", ""))))
        self.images_edit.setPlaceholderText("folder with <name>/<name>_0001.jpg")
        self.people_edit = QLineEdit(shown_path(str(s.value("charts/people", ""))))
        self.people_edit.setPlaceholderText("folder with one sub-folder per person")
        pairs_form = QWidget()
        form = QFormLayout(pairs_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Pairs file", path_row(self.pairs_edit, self.browse_pairs))
        form.addRow("Images", path_row(self.images_edit, self.browse_images))
        people_form = QWidget()
        form = QFormLayout(people_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Folder", path_row(self.people_edit, self.browse_people))
        self.folds_box = QSpinBox()
        self.folds_box.setRange(1, 10)
        self.folds_box.setValue(int(s.value("charts/folds", 10)))
        self.folds_box.setToolTip("People are split into folds (no one in two); each fold's threshold is chosen "
                                  "on the others. One fold: the accuracy at the calibrated threshold.")
        form.addRow("Folds", self.folds_box)
        self.source_stack = QStackedWidget()
        self.source_stack.addWidget(pairs_form)
        self.source_stack.addWidget(people_form)
        self.kind_box.currentIndexChanged.connect(self.source_stack.setCurrentIndex)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(s.value("charts/kind", "pairs"))))
        source_box = QGroupBox("Pair set")
        source_layout = QVBoxLayout(source_box)
        source_layout.addWidget(self.kind_box)
        source_layout.addWidget(self.source_stack)

        self.encoder_list = QListWidget()
        self.encoder_list.setMaximumHeight(100)
        self.encoder_list.setToolTip("Tick several encoders to overlay their curves")
        ticked = [n for n in str(s.value("charts/encoders", DEFAULT_ENCODER)).split(",") if n]
        fill_checklist(self.encoder_list, [Remembered(name) for name in ticked or [DEFAULT_ENCODER]], set(ticked))
        encoder_box = QGroupBox("Encoders to compare")
        QVBoxLayout(encoder_box).addWidget(self.encoder_list)

        controls = run_controls("Evaluate", self.evaluate, self.cancel)
        self.evaluate_button, self.cancel_button = controls.start, controls.cancel
        self.progress, self.status, buttons = controls.progress, controls.status, controls.buttons

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.setToolTip("Accuracy: mean ± standard deviation over the folds, thresholds chosen on "
                              "the other folds. Select a row to draw its histograms and move its threshold.")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(source_box)
        left_layout.addWidget(encoder_box)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.status)
        left_layout.addWidget(QLabel("Results (select a row):"))
        left_layout.addWidget(self.table, 1)

        self.threshold = ThresholdControl("Threshold")
        self.threshold.setEnabled(False)
        self.threshold.value_changed.connect(self._threshold_moved)
        self.accuracy_label = QLabel("")
        self.accuracy_label.setMinimumWidth(260)
        top = QHBoxLayout()
        top.addWidget(self.threshold, 1)
        top.addWidget(self.accuracy_label)
        self.chart = EvaluationChart()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(top)
        right_layout.addWidget(self.chart, 1)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([470, 810])
        QVBoxLayout(self).addWidget(split)

    def engine_ready(self, info) -> None:
        """One item per card, the ticks kept; an encoder without weights here is listed but cannot be
        ticked, its reason as the tooltip."""
        fill_checklist(self.encoder_list, info.cards, set(self.checked_encoders()))

    def encoder_names(self) -> list[str]:
        """Every encoder listed, usable or not."""
        return checklist_names(self.encoder_list)

    def checked_encoders(self) -> list[str]:
        return checklist_names(self.encoder_list, checked_only=True)

    def set_checked_encoders(self, names: list[str]) -> None:
        """Tick the usable encoders among ``names``, untick the others."""
        set_checklist(self.encoder_list, names)

    # -- choosing the pair set ------------------------------------------------------------------
    def open(self) -> None:
        self.browse_pairs()

    def browse_pairs(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an LFW-format pairs file", typed_path(self.pairs_edit.text()),
                                              "Pairs files (*.txt);;All files (*)")
        if path:
            self.kind_box.setCurrentIndex(0)
            self.pairs_edit.setText(shown_path(path))
            if not self.images_edit.text() and (Path(path).parent / "images").is_dir():
                self.images_edit.setText(shown_path(str(Path(path).parent / "images")))

    def browse_images(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the image folder", typed_path(self.images_edit.text()))
        if path:
            self.images_edit.setText(shown_path(path))

    def browse_people(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a folder of people", typed_path(self.people_edit.text()))
        if path:
            self.kind_box.setCurrentIndex(1)
            self.people_edit.setText(shown_path(path))

    def current_source(self) -> PairSource:
        if self.kind_box.currentData() == "pairs":
            return PairSource("pairs", typed_path(self.pairs_edit.text()), typed_path(self.images_edit.text()))
        return PairSource("people", typed_path(self.people_edit.text()), folds=self.folds_box.value())

    # -- evaluating ------------------------------------------------------------------------------
    def evaluate_pairs(self, pairs: str, images: str) -> None:
        self.kind_box.setCurrentIndex(0)
        self.pairs_edit.setText(shown_path(pairs))
        self.images_edit.setText(shown_path(images))
        self.evaluate()

    def evaluate_people(self, folder: str) -> None:
        self.kind_box.setCurrentIndex(1)
        self.people_edit.setText(shown_path(folder))
        self.evaluate()

    def evaluate(self) -> None:
        source = self.current_source()
        encoders = self.checked_encoders()
        if not source.path:
            self._say("Choose a pairs file or a folder of people first.", error=True)
            return
        if not encoders:
            self._say("Tick at least one encoder.", error=True)
            return
        s = self.settings
        s.setValue("charts/kind", source.kind)
        s.setValue("charts/pairs" if source.kind == "pairs" else "charts/people", source.path)
        if source.kind == "pairs":
            s.setValue("charts/images", source.images)
        else:
            s.setValue("charts/folds", source.folds)
        s.setValue("charts/encoders", ",".join(encoders))
        self.evaluate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self._say(f"Evaluating {', '.join(encoders)} on {source.describe()}…")
        self.worker.submit("charts-evaluate", lambda: evaluate_source(source, encoders),
                           label="Evaluating", on_result=self._evaluated, on_error=self._failed,
                           on_progress=self._progress, on_cancelled=self._cancelled)

    def cancel(self) -> None:
        self.worker.cancel("charts-evaluate")

    def is_running(self) -> bool:
        return not self.evaluate_button.isEnabled()

    def _progress(self, event) -> None:
        self.progress.setRange(0, max(event.total, 1))
        self.progress.setValue(event.done)
        self._say(f"{event.message} ({event.done} of {event.total})")

    def _finished(self) -> None:
        self.evaluate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.hide()

    def _evaluated(self, value) -> None:
        self._finished()
        source, evaluation = value
        self._show(source, evaluation)

    def _failed(self, exc: BaseException) -> None:
        self._finished()
        self._say(f"Could not evaluate: {exc}", error=True)

    def _cancelled(self) -> None:
        self._finished()
        self._say("Cancelled; the images embedded so far are cached and will not be embedded again.")

    def _restored(self, value) -> None:
        if value is not None and self.evaluation is None and not self.is_running():
            self._show(*value, restored=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)

    # -- showing -------------------------------------------------------------------------------
    def _show(self, source: PairSource, evaluation, restored: bool = False) -> None:
        self.source, self.evaluation = source, evaluation
        self.results = [r for by_distance in evaluation.results.values() for r in by_distance.values()]
        pairs = evaluation.pairs
        when = "last evaluation (kept from the previous session)" if restored else "evaluated"
        self._say(f"{when.capitalize()}: {source.describe()}: {pairs.n_pairs} pairs in {pairs.n_folds} "
                  f"fold(s), {len(pairs.images)} images, {evaluation.seconds:.1f} s.")
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.results))
        for row, r in enumerate(self.results):
            tar, _ = r.tar_at_far.get(1e-3, (float("nan"), 0.0))
            spread = f" ± {r.score.accuracy_std:.4f}" if len(r.score.fold_accuracies) > 1 else ""
            cells = (r.encoder, r.distance, f"{r.score.accuracy_mean:.4f}{spread}",
                     f"{r.threshold:.4f}", f"{r.auc:.4f}", f"{r.eer[0]:.4f}", f"{tar:.4f}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(r.score.description)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        best = max(range(len(self.results)), key=lambda i: self.results[i].score.accuracy_mean)
        self.table.selectRow(best)
        self._selection_changed()

    def selected_result(self):
        rows = self.table.selectionModel().selectedRows()
        return self.results[rows[0].row()] if rows and self.results else None

    def _selection_changed(self) -> None:
        result = self.selected_result()
        if result is None:
            return
        lo, hi = float(result.distances.min()), float(result.distances.max())
        margin = (hi - lo) * 0.05
        self.threshold.blockSignals(True)
        self.threshold.set_range(max(0.0, lo - margin), hi + margin, 4 if hi < 1 else 3)
        self.threshold.set_default(result.threshold)
        self.threshold.blockSignals(False)
        self.threshold.label.setText(f"Threshold ({result.encoder} · {result.distance})")
        self.threshold.setEnabled(True)
        self.chart.show_results(self.results, result, self.threshold.value())
        self._update_accuracy()

    def _threshold_moved(self, _value: float) -> None:
        self._update_accuracy()
        self._redraw_timer.start()

    def _move_threshold(self) -> None:
        self.chart.set_threshold(self.threshold.value())

    def accuracy_at_threshold(self) -> float | None:
        from facereid_engine.evaluation.metrics import accuracy_at

        result = self.selected_result()
        return None if result is None else accuracy_at(result.distances, result.same, self.threshold.value())

    def _update_accuracy(self) -> None:
        accuracy = self.accuracy_at_threshold()
        if accuracy is not None:
            self.accuracy_label.setText(f"Accuracy at {self.threshold.value():.4f}: <b>{accuracy:.2%}</b> "
                                        f"(all {self.selected_result().same.size} pairs)")

    def shutdown(self) -> None:
        self.settings.setValue("charts/encoders", ",".join(self.checked_encoders()))
