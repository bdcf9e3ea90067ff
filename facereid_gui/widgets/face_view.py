"""A photo drawn to fit its widget, with a box on every face and the chosen face highlighted."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

Box = tuple[int, int, int, int]

CHOSEN = QColor(255, 196, 0)
OTHER = QColor(80, 200, 255)


class FaceView(QWidget):
    """Shows a photo (or a hint when empty). Clicking a face emits ``face_clicked(index)``;
    clicking elsewhere emits ``background_clicked``."""

    face_clicked = Signal(int)
    background_clicked = Signal()

    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._scale = 1.0  # display pixels per original pixel of the photo
        self._boxes: list[Box] = []
        self.labels: list[str] = []
        self._chosen = -1
        self._hint = hint
        self._highlight = False
        self.setMinimumSize(220, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMouseTracking(True)

    # -- content ------------------------------------------------------------------------------
    def set_photo(self, image: QImage | None, scale: float = 1.0, boxes: list[Box] | None = None,
                  chosen: int = -1, labels: list[str] | None = None) -> None:
        """``image`` is the displayed copy, ``scale`` its size relative to the original photo;
        ``boxes`` are in original-photo pixels (dlib's inclusive boxes); ``labels``: a name under each."""
        self._pixmap = None if image is None or image.isNull() else QPixmap.fromImage(image)
        self._scale = scale
        self._boxes = list(boxes or [])
        self.labels = list(labels or [])
        self._chosen = chosen
        self.update()

    def set_chosen(self, index: int) -> None:
        self._chosen = index
        self.update()

    def set_hint(self, text: str) -> None:
        self._hint = text
        self.update()

    def set_highlight(self, on: bool) -> None:
        """Highlight the frame (a drag is over the widget)."""
        self._highlight = on
        self.update()

    @property
    def boxes(self) -> list[Box]:
        return list(self._boxes)

    # -- geometry -----------------------------------------------------------------------------
    def _target(self) -> QRectF:
        """Where the photo is drawn in the widget."""
        if self._pixmap is None:
            return QRectF()
        pw, ph = self._pixmap.width(), self._pixmap.height()
        k = min((self.width() - 8) / pw, (self.height() - 8) / ph)
        w, h = pw * k, ph * k
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def box_rect(self, index: int) -> QRectF:
        """The on-screen rectangle of face ``index``."""
        target = self._target()
        k = target.width() / self._pixmap.width() * self._scale
        l, t, r, b = self._boxes[index]
        return QRectF(target.x() + l * k, target.y() + t * k, (r - l + 1) * k, (b - t + 1) * k)

    def face_at(self, pos: QPointF) -> int:
        """Index of the face under ``pos`` (the smallest one when boxes overlap), or -1."""
        if self._pixmap is None:
            return -1
        hits = [(self.box_rect(i).width(), i) for i in range(len(self._boxes)) if self.box_rect(i).contains(pos)]
        return min(hits)[1] if hits else -1

    # -- events -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        index = self.face_at(event.position())
        if index >= 0:
            self.face_clicked.emit(index)
        else:
            self.background_clicked.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.face_at(event.position())
        if index >= 0:
            self.setToolTip(f"Face {index + 1}: click to compare this face")
        else:
            self.setToolTip("Click to open a photo, or drop one here")
        super().mouseMoveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        frame = palette.highlight().color() if self._highlight else palette.mid().color()
        if self._pixmap is None:
            pen = QPen(frame, 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(4, 4, -4, -4), 10, 10)
            painter.setPen(palette.placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._hint)
            return
        painter.drawPixmap(self._target(), self._pixmap, QRectF(self._pixmap.rect()))
        for index in range(len(self._boxes)):
            chosen = index == self._chosen
            painter.setPen(QPen(CHOSEN if chosen else OTHER, 3 if chosen else 1.5))
            rect = self.box_rect(index)
            painter.drawRect(rect)
            if index < len(self.labels):
                self._draw_label(painter, rect, self.labels[index], CHOSEN if chosen else OTHER)
        if self._highlight:
            painter.setPen(QPen(frame, 3))
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))

    def _draw_label(self, painter: QPainter, rect: QRectF, text: str, colour: QColor) -> None:
        """``text`` on a band of ``colour`` just under the face's box."""
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
        band = QRectF(rect.center().x() - width / 2, rect.bottom() + 2, width, height)
        painter.fillRect(band, colour)
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, text)
