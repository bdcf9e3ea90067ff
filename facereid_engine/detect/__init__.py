"""Face detection: dlib's MMOD CNN face detector, ported exactly to PyTorch."""
from .detector import MMODDetector, load_detector

__all__ = ["MMODDetector", "load_detector"]
