"""Compare: are the faces in two photos the same person?"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout,
                               QWidget)

from facereid_engine.defaults import DEFAULT_DETECTOR, DEFAULT_ENCODER  # light: no torch

from ..jobs.compare import Analysis, Photo, analyse_photo, closest_pair, embed_photo
from ..widgets.detector_choice import detector_combo
from ..widgets.encoder_choice import fill_combo
from ..widgets.image_pane import ImagePane
from ..widgets.threshold_control import ThresholdControl
from ..widgets.verdict_panel import VerdictPanel
from .base import Page
from .compare_words import (DISTANCE_WORDS, error_words, faces_words, is_encoder_problem, threshold_range,
                            unusable_words, weights_words)

# The engine (and with it torch) is imported by the worker first; this page imports engine modules
# only once ``engine_ready`` has been called, so that the window shows at once.

DEBOUNCE_MS = 80
class ComparePage(Page):
    title = "Compare"
    open_text = "Open Photos…"

    def __init__(self, worker, settings, parent: QWidget | None = None) -> None:
        super().__init__(worker, settings, parent)
        self.photos: list[Photo | None] = [None, None]
        self.chosen = [0, 0]
        self.how = ["largest", "largest"]  # how each side's face was chosen: largest, closest, clicked
        self.embed_errors: list[str] = ["", ""]
        self.unusable: dict[str, str] = {}  # encoder -> why it cannot be used here (its card, or its load)

        self.panes = [ImagePane("Photo A"), ImagePane("Photo B")]
        for side, pane in enumerate(self.panes):
            pane.files_dropped.connect(partial(self._files_dropped, side))
            pane.face_chosen.connect(partial(self.choose_face, side))
            pane.whole_image_requested.connect(partial(self._whole_image, side))

        self.encoder_box = QComboBox()
        self.encoder_box.setToolTip("The model that turns a face into a vector")
        self.encoder_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        remembered = str(settings.value("compare/encoder", DEFAULT_ENCODER))
        self.encoder_box.addItem(remembered, remembered)
        self.distance_box = QComboBox()
        saved = str(settings.value("compare/distance", "euclidean"))
        self.distance_box.addItem(DISTANCE_WORDS.get(saved, saved), saved)
        self.detector_box = detector_combo(str(settings.value("compare/detector", DEFAULT_DETECTOR)))
        self.weights_button = QPushButton("Load weights file…")
        self.weights_button.clicked.connect(lambda: self.load_weights())
        self.weights_button.hide()
        self.weights_note = ""
        self.ready = False  # the engine is loaded (see engine_ready)
        self.threshold = ThresholdControl("Threshold")
        self.threshold.setToolTip("Same person when the distance is at most the threshold")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Encoder"))
        controls.addWidget(self.encoder_box)
        controls.addWidget(self.weights_button)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Distance"))
        controls.addWidget(self.distance_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Detector"))
        controls.addWidget(self.detector_box)
        controls.addSpacing(12)
        controls.addWidget(self.threshold, 1)

        self.result = VerdictPanel()
        photos = QSplitter()
        for pane in self.panes:
            photos.addWidget(pane)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        split = QSplitter()
        split.setOrientation(split.orientation().Vertical)
        split.addWidget(photos)
        split.addWidget(self.result)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.update_result)
        self.encoder_box.currentIndexChanged.connect(self._model_changed)
        self.distance_box.currentIndexChanged.connect(self._model_changed)
        self.detector_box.currentIndexChanged.connect(self._detector_changed)
        self.threshold.value_changed.connect(self._schedule)
        for control in (self.encoder_box, self.distance_box, self.detector_box, self.threshold):
            control.setEnabled(False)

    # -- state --------------------------------------------------------------------------------
    @property
    def encoder(self) -> str:
        return self.encoder_box.currentData()

    @property
    def distance_name(self) -> str:
        return self.distance_box.currentData()

    @property
    def detector(self) -> str:
        return self.detector_box.currentData()

    def engine_ready(self, info) -> None:
        from facereid_engine.distances import DISTANCES

        encoder, distance = self.encoder, self.distance_name
        self.unusable = info.unavailable()
        fill_combo(self.encoder_box, info.cards, encoder)  # unusable ones marked, their reason as tooltip
        self.distance_box.blockSignals(True)
        self.distance_box.clear()
        for name in DISTANCES:
            self.distance_box.addItem(DISTANCE_WORDS.get(name, name), name)
        self.distance_box.setCurrentIndex(max(0, self.distance_box.findData(distance)))
        for box in (self.encoder_box, self.distance_box, self.detector_box):
            box.blockSignals(False)
            box.setEnabled(True)
        self.threshold.setEnabled(True)
        self.ready = True
        if self.encoder != encoder:
            self._model_changed()
        else:
            self._reset_threshold()
            self._request_embeddings()  # an encoder that became usable (weights loaded) embeds now
            self._schedule()
        self._show_weights_button()

    def set_encoder(self, name: str) -> None:
        index = self.encoder_box.findData(name)
        if index < 0:
            raise ValueError(f"{name!r} is not in the encoder list ({', '.join(self.encoder_names())})")
        self.encoder_box.setCurrentIndex(index)

    def encoder_names(self) -> list[str]:
        """The encoders listed, usable or not, in order."""
        return [self.encoder_box.itemData(i) for i in range(self.encoder_box.count())]

    def set_distance(self, name: str) -> None:
        self.distance_box.setCurrentIndex(self.distance_box.findData(name))

    def set_detector(self, name: str) -> None:
        self.detector_box.setCurrentIndex(self.detector_box.findData(name))

    # -- photos -------------------------------------------------------------------------------
    def open(self) -> None:
        side = 0 if self.photos[0] is None or self.photos[1] is not None else 1
        self.panes[side].open_dialog()

    def _files_dropped(self, side: int, files: list) -> None:
        if len(files) >= 2:
            self.load(0, files[0])
            self.load(1, files[1])
        elif files:
            self.load(side, files[0])

    def load(self, side: int, path: str, whole_image: bool = False) -> None:
        """Analyse ``path`` in the worker and show it on ``side`` (0: A, 1: B)."""
        self.photos[side] = None
        self.embed_errors[side] = ""
        self.chosen[side] = 0
        self.how[side] = "largest"
        self.panes[side].show_loading(path)
        self.result.show_waiting("Finding faces…")
        encoder = None if self.encoder in self.unusable else self.encoder  # find the faces only
        self.worker.submit(f"compare-photo-{side}", partial(analyse_photo, path, encoder, whole_image, self.detector),
                           label=f"Finding faces in photo {'AB'[side]}", interleave=True,
                           on_result=partial(self._photo_ready, side),
                           on_error=partial(self._photo_failed, side))

    def _whole_image(self, side: int) -> None:
        if self.panes[side].path:
            self.load(side, self.panes[side].path, whole_image=True)

    def _photo_ready(self, side: int, analysis: Analysis) -> None:
        photo = analysis.photo
        self.photos[side] = photo
        pane = self.panes[side]
        pane.show_photo(photo.display, photo.display_scale, [f.box for f in photo.faces], 0)
        pane.show_chip(photo.chips[0])
        self._describe(side)
        if analysis.embed_error is not None and analysis.encoder == self.encoder:
            self._embed_failed(side, analysis.encoder, analysis.embed_error)
        elif self.encoder not in photo.embeddings and self.encoder not in self.unusable:
            self._request_embeddings()
        self.update_result()

    def _photo_failed(self, side: int, exc: BaseException) -> None:
        self.photos[side] = None
        from facereid_engine.errors import NoFaceFoundError

        self.panes[side].show_error(error_words(exc), offer_whole_image=isinstance(exc, NoFaceFoundError))
        self.update_result()

    def _describe(self, side: int) -> None:
        photo, other = self.photos[side], self.photos[1 - side]
        if photo.whole_image:
            text = "The whole photo is used as the face."
        else:
            text = faces_words(len(photo.faces), self.chosen[side], self.how[side], "AB"[1 - side],
                               len(other.faces) if other is not None else 0)
        self.panes[side].show_info(text)

    def choose_face(self, side: int, index: int) -> None:
        """Compare face ``index`` of ``side`` (the user clicked it: kept until another photo comes)."""
        photo = self.photos[side]
        if photo is None or not 0 <= index < len(photo.faces):
            return
        self.how[side] = "clicked"
        self.chosen[side] = index
        self.panes[side].set_chosen(index)
        self.panes[side].show_chip(photo.chips[index])
        if not self.embed_errors[side]:
            self._describe(side)
        self._schedule()

    # -- encoder, distance, threshold -----------------------------------------------------------
    def _detector_changed(self) -> None:
        """Find the faces again with the detector chosen (a photo used whole keeps its one face)."""
        self.settings.setValue("compare/detector", self.detector)
        for side, pane in enumerate(self.panes):
            photo = self.photos[side]
            if pane.path and not (photo is not None and photo.whole_image):
                self.load(side, pane.path)

    def _closest_faces(self) -> None:
        """Where a photo holds several faces, compare the closest pair (as ``verify --closest``), each
        face the user clicked kept; said in the pane."""
        encoder = self.encoder
        a, b = (p.embeddings[encoder] for p in self.photos)
        if len(a) == len(b) == 1 or "clicked" == self.how[0] == self.how[1]:
            return
        fixed = tuple(self.chosen[s] if self.how[s] == "clicked" else None for s in (0, 1))
        pair = closest_pair(a, b, self.distance_name, fixed)
        for side in (0, 1):
            if self.how[side] != "clicked" and len(self.photos[side].faces) > 1:
                self.how[side], self.chosen[side] = "closest", pair[side]
                self.panes[side].set_chosen(pair[side])
                self.panes[side].show_chip(self.photos[side].chips[pair[side]])
            if not self.embed_errors[side]:
                self._describe(side)

    def _show_weights_button(self) -> None:
        """Offer "Load weights file…" while the encoder chosen cannot be used for want of its weights file."""
        filename = None
        if self.ready and self.encoder in self.unusable:
            from ..jobs.weights import weights_file_needed, weights_folder

            filename = weights_file_needed(self.encoder)
        self.weights_button.setVisible(filename is not None)
        if filename is not None:
            self.weights_button.setToolTip(weights_words(self.encoder, filename, str(weights_folder())))

    def load_weights(self, source: str | None = None) -> None:
        """Check ``source`` (chosen in a dialog when None) against the encoder's weights file name and put
        it where the engine looks; every page then sees the encoder as usable."""
        from ..jobs.weights import load_weights_file, weights_file_needed

        encoder = self.encoder
        filename = weights_file_needed(encoder)
        if filename is None:
            return
        if source is None:
            source, _ = QFileDialog.getOpenFileName(self, f"Choose {filename}, the weights of {encoder}", "",
                                                    "PyTorch weights (*.pth *.pt);;All files (*)")
            if not source:
                return
        self.result.show_waiting(f"Checking {source} against {filename}…")
        self.worker.submit("compare-weights", partial(load_weights_file, encoder, source),
                           label="Checking the weights file", on_result=partial(self._weights_loaded, encoder),
                           on_error=partial(self._weights_failed, encoder))

    def _weights_loaded(self, encoder: str, value) -> None:
        path, info = value
        self.weights_note = f"Loaded {path.name} into {path.parent}: {encoder} can be used now."
        self.engine_changed.emit(info)  # every page reads the cards again (this one too)
        self.update_result()

    def _weights_failed(self, encoder: str, exc: BaseException) -> None:
        self.weights_note = f"That file was not loaded. {exc}"
        if encoder == self.encoder:
            self.update_result()

    def _model_changed(self) -> None:
        self.settings.setValue("compare/encoder", self.encoder)
        self.settings.setValue("compare/distance", self.distance_name)
        self._reset_threshold()
        self._request_embeddings()
        self._show_weights_button()
        self._schedule()

    def _reset_threshold(self) -> None:
        from facereid_engine.thresholds import default_threshold

        value, provisional = default_threshold(self.encoder, self.distance_name)
        lo, hi, decimals = threshold_range(self.encoder, self.distance_name, value)
        self.threshold.blockSignals(True)
        self.threshold.set_range(lo, hi, decimals)
        self.threshold.set_default(value, provisional)
        self.threshold.blockSignals(False)

    def _request_embeddings(self) -> None:
        """Embed with the current encoder the photos that have no embeddings for it yet."""
        encoder = self.encoder
        for side, photo in enumerate(self.photos):
            self.embed_errors[side] = ""
            if photo is None or encoder in photo.embeddings or encoder in self.unusable:
                if photo is not None:
                    self._describe(side)
                continue
            self.panes[side].show_info(f"Embedding with {encoder}…")
            self.worker.submit(f"compare-embed-{side}", partial(embed_photo, photo, encoder),
                               label=f"Embedding photo {'AB'[side]} with {encoder}", interleave=True,
                               on_result=partial(self._embedded, side, photo, encoder),
                               on_error=partial(self._embed_failed, side, encoder))

    def _embedded(self, side: int, photo: Photo, encoder: str, vectors) -> None:
        photo.embeddings[encoder] = vectors
        if self.photos[side] is photo:
            self._describe(side)
            self._schedule()

    def _embed_failed(self, side: int, encoder: str, exc: BaseException) -> None:
        if is_encoder_problem(exc):  # the same for both photos: said once, under them (update_result)
            self.unusable[encoder] = str(exc)
            self._show_weights_button()
            if self.photos[side] is not None:
                self._describe(side)
            if encoder == self.encoder:
                self.update_result()
            return
        if encoder != self.encoder:
            return
        self.embed_errors[side] = error_words(exc)
        self.panes[side].show_error(self.embed_errors[side], keep_photo=True)
        self.update_result()

    def _schedule(self, *_args) -> None:
        self._debounce.start()

    # -- the answer -----------------------------------------------------------------------------
    def update_result(self) -> None:
        """Recompute the verdict from the embeddings at hand (never runs a model)."""
        self._debounce.stop()
        if not self.ready:
            return
        from facereid_engine.distances import distance as distance_between, is_same_person
        from facereid_engine.evaluation.reference_distances import reference_histogram

        encoder, name = self.encoder, self.distance_name
        if encoder in self.unusable:
            note = f"\n\n{self.weights_note}" if self.weights_note else ""
            self.result.show_waiting(unusable_words(encoder, self.unusable[encoder]) + note)
            return
        missing = [side for side in (0, 1) if self.photos[side] is None]
        if missing:
            waiting = [side for side in missing if self.panes[side].path and not self.panes[side].error_text]
            self.result.show_waiting("Finding faces…" if waiting else
                                     "Drop two photos, one on each side, to compare them.")
            return
        if any(self.embed_errors):
            self.result.show_waiting(next(e for e in self.embed_errors if e))
            return
        if any(encoder not in p.embeddings for p in self.photos):
            self.result.show_waiting(f"Embedding the faces with {encoder}…")
            return
        self._closest_faces()
        a = self.photos[0].embeddings[encoder][self.chosen[0]]
        b = self.photos[1].embeddings[encoder][self.chosen[1]]
        value = distance_between(a, b, name)
        threshold = self.threshold.value()
        self.result.show_verdict(is_same_person(value, threshold), value, threshold, DISTANCE_WORDS[name], encoder,
                                 reference_histogram(encoder, name))

    def shutdown(self) -> None:
        self.settings.setValue("compare/encoder", self.encoder)
        self.settings.setValue("compare/distance", self.distance_name)
        self.settings.setValue("compare/detector", self.detector)
