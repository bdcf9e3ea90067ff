"""Train: fine-tune a head on a frozen encoder, watch loss and validation accuracy live, save it as an encoder."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from facereid_engine.defaults import DEFAULT_ENCODER  # light: no torch

from ..jobs.train import TrainRequest, save_job, training_job
from ..widgets.encoder_choice import fill_combo
from ..widgets.path_row import path_row
from ..widgets.run_controls import run_controls
from ..widgets.training_chart import WAITING_TEXT, TrainingChart
from .base import Page

METHOD_WORDS = (
    ("pair", "Pair classifier (order-invariant, regularised)"),
    ("metric", "Metric head (a new embedding)"),
    ("concat", "Concatenation classifier (the study's baseline)"),
)
SOURCE_WORDS = (("pairs", "LFW-format pairs file"), ("identities", "Folder of people (one sub-folder each)"),
                ("people", "LFW people file"))


class TrainPage(Page):
    title = "Train"
    open_text = "Open Training Data…"

    def __init__(self, worker, settings, parent: QWidget | None = None) -> None:
        super().__init__(worker, settings, parent)
        self.result = None
        self._build()

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.settings
        self.kind_box = QComboBox()
        for key, words in SOURCE_WORDS:
            self.kind_box.addItem(words, key)
        self.path_edit = QLineEdit(str(s.value("train/path", "")))
        self.path_edit.setPlaceholderText("pairsDevTrain.txt, or a folder of people")
        self.images_edit = QLineEdit(str(s.value("train/images", "")))
        self.images_edit.setPlaceholderText("default: images/ next to the file")
        self.images_row = path_row(self.images_edit, self.browse_images)
        data_box = QGroupBox("Training data")
        form = QFormLayout(data_box)
        form.addRow(self.kind_box)
        form.addRow("File or folder", path_row(self.path_edit, self.open))
        form.addRow("Images", self.images_row)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(s.value("train/kind", "pairs"))))

        self.base_box = QComboBox()
        base = str(s.value("train/base", DEFAULT_ENCODER))
        self.base_box.addItem(base, base)
        self.base_box.setToolTip("The frozen encoder whose embeddings are learnt from (cached after the first run)")
        self.method_box = QComboBox()
        for key, words in METHOD_WORDS:
            self.method_box.addItem(words, key)
        self.method_box.setCurrentIndex(max(0, self.method_box.findData(s.value("train/method", "pair"))))
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setValue(int(s.value("train/seed", 0)))
        self.seed_box.setToolTip("The same seed and data give the same model")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(0, 1000)
        self.epochs_box.setSpecialValueText("method's default")
        self.unfreeze_box = QCheckBox("Also train the backbone's last stage")
        self.unfreeze_box.setEnabled(False)
        self.unfreeze_box.setToolTip("Needs a GPU and an ImageNet encoder; training here keeps the encoder "
                                     "frozen and learns from its cached embeddings.")
        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        form.addRow("Base encoder", self.base_box)
        form.addRow("Method", self.method_box)
        form.addRow("Seed", self.seed_box)
        form.addRow("Epochs (at most)", self.epochs_box)
        form.addRow(self.unfreeze_box)

        controls = run_controls("Train", self.start_training, self.cancel)
        self.train_button, self.cancel_button = controls.start, controls.cancel
        self.progress, self.status, buttons = controls.progress, controls.status, controls.buttons

        self.name_edit = QLineEdit(str(s.value("train/name", "mymodel")))
        self.name_edit.setToolTip("The model appears as the encoder <base>+<name> in every page")
        self.save_button = QPushButton("Save")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        save_box = QGroupBox("Save the trained model")
        save_row = QHBoxLayout(save_box)
        save_row.addWidget(QLabel("Name"))
        save_row.addWidget(self.name_edit, 1)
        save_row.addWidget(self.save_button)

        left = QWidget()
        layout = QVBoxLayout(left)
        layout.addWidget(data_box)
        layout.addWidget(model_box)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(save_box)
        layout.addStretch(1)
        self.chart = TrainingChart()
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.chart)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 900])
        QVBoxLayout(self).addWidget(split)

    def _kind_changed(self) -> None:
        self.images_row.setEnabled(self.kind_box.currentData() != "identities")

    def engine_ready(self, info) -> None:
        """List every encoder but the trained ones as a base; one without weights here is listed, disabled,
        with its reason as the tooltip."""
        fill_combo(self.base_box, [c for c in info.cards if c.family != "trained"], self.base_box.currentData(),
                   selectable_unavailable=False)

    # -- choosing data ------------------------------------------------------------------------
    def open(self) -> None:
        if self.kind_box.currentData() == "identities":
            path = QFileDialog.getExistingDirectory(self, "Choose a folder of people", self.path_edit.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a pairs or people file", self.path_edit.text(),
                                                  "Text files (*.txt);;All files (*)")
        if path:
            self.path_edit.setText(path)

    def browse_images(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the image folder", self.images_edit.text())
        if path:
            self.images_edit.setText(path)

    def set_source(self, kind: str, path: str, images: str = "") -> None:
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind))
        self.path_edit.setText(path)
        self.images_edit.setText(images)

    def request(self) -> TrainRequest:
        return TrainRequest(self.kind_box.currentData(), self.path_edit.text().strip(),
                            self.images_edit.text().strip(), self.base_box.currentData(),
                            self.method_box.currentData(), self.seed_box.value(), self.epochs_box.value() or None)

    # -- training -----------------------------------------------------------------------------
    def start_training(self) -> None:
        """Train with the chosen data and options (the Train button). Not ``Page.start``, which the
        window calls at launch: overriding it made the app start training, or complain, on start-up."""
        request = self.request()
        if not request.path:
            self._say("Choose a pairs file or a folder of people first.", error=True)
            return
        s = self.settings
        for key, value in (("kind", request.kind), ("path", request.path), ("images", request.images),
                           ("base", request.base), ("method", request.method), ("seed", request.seed)):
            s.setValue(f"train/{key}", value)
        self.result = None
        self.save_button.setEnabled(False)
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.chart.reset(f"plain {request.base} distance", WAITING_TEXT)
        self._say(f"Training a {self.method_box.currentText().lower()} on {request.base}…")
        self.worker.submit("train", lambda: training_job(request), label="Training",
                           on_result=self._trained, on_error=self._failed, on_progress=self._progress,
                           on_cancelled=self._cancelled)

    def cancel(self) -> None:
        self.worker.cancel("train")

    def is_running(self) -> bool:
        return not self.train_button.isEnabled()

    def _progress(self, event) -> None:
        stage = event.info.get("stage")
        self.progress.setRange(0, max(event.total, 1))
        self.progress.setValue(event.done)
        if stage == "train":
            self.chart.show_history(event.info["history"], event.info.get("base_val_accuracy"))
            self._say(f"Epoch {event.info['epoch']}: loss {event.info['loss']:.4f}, validation accuracy "
                      f"{event.info['val_accuracy']:.2%}")
        elif stage == "embed":
            self._say(f"Embedding the images with the frozen encoder ({event.done} of {event.total}; cached "
                      "for next time)")
        else:
            self._say(event.message.capitalize())

    def _finished(self) -> None:
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.hide()
        if not self.chart.epochs:  # stopped before the first epoch: back to the empty state
            self.chart.reset()

    def _trained(self, result) -> None:
        self._finished()
        self.result = result
        self.chart.show_history(result.history, result.base_val_accuracy, live=False)
        self.save_button.setEnabled(True)
        stop = "stopped early" if result.stopped_early else "ran every epoch"
        self._say(f"Done: validation accuracy <b>{result.val_accuracy:.2%}</b> (epoch {result.best_epoch}, {stop}); "
                  f"the plain {result.base} distance on the same pairs: {result.base_val_accuracy:.2%}. "
                  "Name the model and press Save to use it.")

    def _failed(self, exc: BaseException) -> None:
        self._finished()
        self._say(f"Could not train: {exc}", error=True)

    def _cancelled(self) -> None:
        self._finished()
        self._say("Cancelled: nothing was saved.")

    # -- saving -------------------------------------------------------------------------------
    def save(self) -> None:
        if self.result is None:
            return
        name = self.name_edit.text().strip()
        self.settings.setValue("train/name", name)
        self.save_button.setEnabled(False)
        result = self.result
        self.worker.submit("train-save", lambda: save_job(result, name), label="Saving the model",
                           on_result=self._saved, on_error=self._save_failed)

    def _saved(self, value) -> None:
        full, info = value
        self.result = None
        self._say(f"Saved as <b>{full}</b>: choose it as the encoder in Compare, Albums or Charts.")
        self.engine_changed.emit(info)  # the window tells every page (this one too)

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self._say(f"Could not save: {exc}", error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)
