"""What every encoder offers the pipeline: its chip geometry and ``embed(chips) -> vectors``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..alignment.chips import dlib_chips
from ..device import full_fp32


class Encoder(ABC):
    """An embedding model. ``chips`` cuts the aligned chips it wants out of an image, ``embed`` turns
    chips into one vector each, ``mirror`` flips chips left to right (for flip-averaged embeddings).

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

    def chips(self, image: np.ndarray, faces: Sequence) -> np.ndarray:
        """The chips of ``faces`` (Face objects) in ``image``: by default dlib's, at this encoder's size
        and padding, from each face's dlib landmarks."""
        return dlib_chips(image, faces, self.chip_size, self.chip_padding)

    def mirror(self, chips: np.ndarray) -> np.ndarray:
        """The chips mirrored left to right."""
        return np.ascontiguousarray(np.asarray(chips)[:, :, ::-1])


def embed_in_batches(chips: np.ndarray, size: int, dim: int, batch_size: int, device: torch.device,
                     forward: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
    """Check that ``chips`` are uint8 (N, size, size, 3), then run ``forward`` on batches of them (uint8
    NHWC tensors on ``device``, in full float32 on CUDA) and gather the float32 (N, dim) result."""
    chips = np.asarray(chips)
    if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != (size, size, 3):
        raise ValueError(f"chips must be uint8 (N, {size}, {size}, 3), got {chips.dtype} {chips.shape}")
    out = np.empty((len(chips), dim), dtype=np.float32)
    with torch.inference_mode(), full_fp32(device):
        for start in range(0, len(chips), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(chips[start:start + batch_size])).to(device)
            out[start:start + len(batch)] = forward(batch).float().cpu().numpy()
    return out
