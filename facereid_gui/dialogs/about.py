"""Help > About: what FaceReID is, the models it uses and their licences."""
from __future__ import annotations

from html import escape as _escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..resources import icon


def escape(text: str) -> str:
    return _escape(text, quote=False)


def model_tables(models, cards) -> str:
    """The shared models, then every encoder from its card (what it is, where its weights come from,
    why it cannot be used here if it cannot), with their licences as numbered notes."""
    licences = list(dict.fromkeys([m.licence for m in models] + [c.licence for c in cards]))

    def note(licence: str) -> str:
        return f"[{licences.index(licence) + 1}]"

    rows = "".join(f"<tr><td><b>{escape(m.name)}</b></td><td>{escape(m.role)}</td>"
                   f"<td>{escape(m.description)}</td><td>{note(m.licence)}</td></tr>" for m in models)
    encoder_rows = []
    for c in cards:
        missing = (f"<br><i style='color: #c62828'>Not usable here: {escape(c.unavailable)}</i>"
                   if c.unavailable else "")
        encoder_rows.append(f"<tr><td><b>{escape(c.name)}</b><br>{c.dim}-D, {escape(c.family)}</td>"
                            f"<td>{escape(c.description)}{missing}</td><td>{escape(c.source)}</td>"
                            f"<td>{note(c.licence)}</td></tr>")
    notes = "".join(f"<li>[{i + 1}] {escape(text)}</li>" for i, text in enumerate(licences))
    head = "<th align='left'>{}</th>".format
    return ("<h3>Models</h3><table cellspacing='4'><tr>"
            f"{head('Model')}{head('Role')}{head('What it is')}{head('Licence')}</tr>{rows}</table>"
            "<h3>Encoders</h3><table cellspacing='4'><tr>"
            f"{head('Encoder')}{head('What it is')}{head('Weights from')}{head('Licence')}</tr>"
            f"{''.join(encoder_rows)}</table>"
            f"<p><b>Licences</b></p><ul style='margin-left: 0'>{notes}</ul>")


def about_html(info=None) -> str:
    """The About text; ``info`` is the :class:`~facereid_gui.jobs.startup.EngineInfo` once loaded."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("facereid")
    except PackageNotFoundError:  # running from a source checkout
        from facereid_engine import __version__ as ver
    parts = [f"<h2>FaceReID {escape(ver)}</h2>",
             "<p>Face re-identification on your own computer: compare two photos, sort a folder of "
             "photos into albums per person, and measure how well each model does.</p>"]
    if info is None:
        parts.append("<p><i>The models are still loading…</i></p>")
    else:
        parts.append(f"<p>Running on: <b>{escape(info.device)}</b></p>")
        parts.append(model_tables(info.models, info.cards))
    parts.append("<p>The dlib models (face detector, landmarks, face encoder) are dlib's, by Davis King, "
                 "public domain; the ImageNet architectures come from torchvision (BSD-3-Clause). "
                 "Faces in LFW: University of Massachusetts, Amherst, for research use. "
                 "FaceReID itself is MIT-licensed; built with Qt for Python (LGPL) and matplotlib.</p>")
    return "".join(parts)


class AboutDialog(QDialog):
    def __init__(self, info=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About FaceReID")
        self.setWindowIcon(icon("facereid"))
        self.text = QLabel(about_html(info))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setContentsMargins(8, 8, 8, 8)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(820, 620)
