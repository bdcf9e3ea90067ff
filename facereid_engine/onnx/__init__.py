"""Reading ONNX model files without onnx or onnxruntime: a checked protobuf reader, constant
folding of dequantised weights, and the location and checksums of OpenCV Zoo's files."""
from .dequant import dequantize_linear, fold_constants
from .reader import Graph, Model, Node, ValueInfo, parse_model, read_model
from .weights import SFACE_FILE, YUNET_FILE, load_zoo_model, read_verified, resources_dir, zoo_model_path

__all__ = ["Graph", "Model", "Node", "ValueInfo", "parse_model", "read_model", "dequantize_linear",
           "fold_constants", "SFACE_FILE", "YUNET_FILE", "load_zoo_model", "read_verified",
           "resources_dir", "zoo_model_path"]
