"""Face detection API (the implementation lives in :mod:`facereid_engine.detect`)."""
from .detect import MMODDetector, load_detector

__all__ = ["MMODDetector", "load_detector"]
