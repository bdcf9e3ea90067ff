"""What every encoder offers the pipeline: its chip geometry and ``embed(chips) -> vectors``."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Encoder(ABC):
    """An embedding model. ``embed`` takes aligned face chips and returns one vector per chip.

    Attributes:
        name: registry name (``dlib``, ``resnet``, ``dlib+mymodel`` ...).
        dim: length of the output vectors.
        chip_size: side of the square aligned chip the encoder wants (pixels).
        chip_padding: padding of the chip around the landmark template (dlib's convention, 0.25).
        description, licence: words for the About box (the encoder's card says the same).
    """

    name: str = ""
    dim: int = 0
    chip_size: int = 150
    chip_padding: float = 0.25
    description: str = ""
    licence: str = ""

    @abstractmethod
    def embed(self, chips: np.ndarray) -> np.ndarray:
        """Embed a batch of chips: uint8 array (N, chip_size, chip_size, 3) RGB -> float32 (N, dim)."""
