"""YuNet (OpenCV Zoo, Apache-2.0 / MIT): face boxes, scores and five landmarks, in PyTorch.

Landmark order (OpenCV's): right eye, left eye, nose tip, right mouth corner, left mouth corner,
"right" and "left" being the person's (the right eye is on the image's left).
"""
from .decode import LANDMARK_NAMES, NMS_THRESHOLD, SCORE_THRESHOLD, TOP_K, decode, nms, postprocess
from .detector import (DEFAULT_MAX_SIDE, YuNetDetector, load_yunet_detector, load_yunet_net, padded_size,
                       to_box, to_faces)
from .net import YuNet, load_yunet_weights

__all__ = ["YuNet", "YuNetDetector", "load_yunet_detector", "load_yunet_net", "load_yunet_weights",
           "decode", "nms", "postprocess", "padded_size", "to_box", "to_faces", "LANDMARK_NAMES",
           "SCORE_THRESHOLD", "NMS_THRESHOLD", "TOP_K", "DEFAULT_MAX_SIDE"]
