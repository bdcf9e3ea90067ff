"""A threshold chosen with a slider and a spin box kept in step, with a reset to the default."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

STEPS = 1000


class ThresholdControl(QWidget):
    """Emits ``value_changed(float)`` whenever the user (or :meth:`set_value`) changes the threshold.

    A value set from code (a calibrated default) is kept exactly, whatever the spin box shows; what
    the user picks with the slider or the spin box is what they see."""

    value_changed = Signal(float)

    def __init__(self, label: str = "Threshold", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lo, self._hi = 0.0, 1.0
        self._default: float | None = None
        self._value = 0.0
        self.label = QLabel(label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setMinimumWidth(160)
        self.spin = QDoubleSpinBox()
        self.spin.setKeyboardTracking(False)
        self.spin.setDecimals(3)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Back to the calibrated default")
        self.reset_button.clicked.connect(self.reset)
        self.note = QLabel("")
        self.note.setStyleSheet("color: palette(placeholder-text);")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.reset_button)
        layout.addWidget(self.note)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)
        self.set_range(0.0, 1.0)

    def value(self) -> float:
        return self._value

    def default(self) -> float | None:
        return self._default

    def set_range(self, lo: float, hi: float, decimals: int = 3) -> None:
        """The range the slider covers; the spin box keeps the same range."""
        value = self.value()
        self._lo, self._hi = float(lo), float(max(hi, lo + 1e-9))
        for widget in (self.spin, self.slider):
            widget.blockSignals(True)
        self.spin.setDecimals(decimals)
        self.spin.setRange(self._lo, self._hi)
        self.spin.setSingleStep(10.0 ** -(decimals - 1))
        self._value = min(max(value, self._lo), self._hi)
        self.spin.setValue(self._value)
        self._sync_slider(self._value)
        for widget in (self.spin, self.slider):
            widget.blockSignals(False)

    def range(self) -> tuple[float, float]:
        return self._lo, self._hi

    def set_value(self, value: float) -> None:
        """Set the threshold exactly (emits ``value_changed`` when it changes)."""
        value = float(value)
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self._sync_slider(value)
        if value != self._value:
            self._value = value
            self.value_changed.emit(value)

    def set_default(self, value: float, provisional: bool = False) -> None:
        """Set the default the Reset button returns to, and go to it."""
        self._default = float(value)
        self.note.setText("(provisional default)" if provisional else "")
        self.reset_button.setToolTip(f"Back to the {'provisional' if provisional else 'calibrated'} "
                                     f"default, {value:g}")
        self.set_value(value)

    def reset(self) -> None:
        if self._default is not None:
            self.set_value(self._default)

    # -- keeping the two in step ----------------------------------------------------------------
    def _sync_slider(self, value: float) -> None:
        fraction = (value - self._lo) / (self._hi - self._lo)
        self.slider.blockSignals(True)
        self.slider.setValue(round(fraction * STEPS))
        self.slider.blockSignals(False)

    def _from_slider(self, position: int) -> None:
        self.spin.setValue(self._lo + (self._hi - self._lo) * position / STEPS)

    def _from_spin(self, value: float) -> None:
        self._sync_slider(value)
        if float(value) != self._value:
            self._value = float(value)
            self.value_changed.emit(self._value)
