"""onnxruntime, the oracle of the YuNet and SFace ports, on the very files FaceReID ships.

onnxruntime will not run either file as it is, so each is mended in memory (same arithmetic):
YuNet's single-block DequantizeLinear nodes become per-tensor ones and its input size is freed;
SFace's 29 original float weights, also declared as graph inputs (no node reads them), are dropped
from the inputs. Used by the tests and by benchmarks/bench_yunet_sface.py; needs onnx and onnxruntime.
"""
from __future__ import annotations


def yunet_model():
    """YuNet's ONNX model, mended for onnxruntime."""
    import onnx
    from onnx import numpy_helper

    from facereid_engine.onnx import YUNET_FILE, zoo_model_path

    model = onnx.load(str(zoo_model_path(YUNET_FILE)))
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and numpy_helper.to_array(inits[node.input[1]]).size == 1:
            for a in node.attribute:
                if a.name == "block_size":
                    a.i = 0
            for name in node.input[1:3]:
                del inits[name].dims[:]
    for dim, param in zip(model.graph.input[0].type.tensor_type.shape.dim[2:], "hw"):
        dim.dim_param = param
    return model


def sface_model():
    """SFace's ONNX model with ``data`` as its only graph input."""
    import onnx

    from facereid_engine.onnx import SFACE_FILE, zoo_model_path

    model = onnx.load(str(zoo_model_path(SFACE_FILE)))
    keep = [i for i in model.graph.input if i.name == "data"]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    return model


def session(model, threads: int | None = None, optimise: bool = True):
    """A CPU onnxruntime session of ``model``, quiet."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    if not optimise:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
