"""SFace (OpenCV Zoo ``face_recognition_sface_2021dec``) as a PyTorch module.

A MobileNet-style network: a 3x3 convolution, thirteen depthwise-3x3 / pointwise-1x1 pairs, each
convolution followed by batch norm and PReLU, then batch norm, a 7x7x1024 -> 128 linear layer and a
final batch norm. The input is RGB, ``(x - 127.5) * 0.0078125`` (both constants read from the file).
Weights are loaded separately (:func:`load_sface_weights`), from the ONNX graph, in node order.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...errors import ModelFileError
from ...onnx import Model, fold_constants

CHIP_SIZE = 112
EMBEDDING_DIM = 128
# (out channels, stride, depthwise) of every convolution, input side first.
CONVS: tuple[tuple[int, int, bool], ...] = (
    (32, 1, False), (32, 1, True), (64, 1, False), (64, 2, True), (128, 1, False), (128, 1, True),
    (128, 1, False), (128, 2, True), (256, 1, False), (256, 1, True), (256, 1, False), (256, 2, True),
    (512, 1, False), *(((512, 1, True), (512, 1, False)) * 5), (512, 2, True), (1024, 1, False),
    (1024, 1, True), (1024, 1, False),
)
BN_EPS = 1e-3
HEAD_BN_EPS = 2e-5


class ConvBNPReLU(nn.Sequential):
    """Convolution (3x3 full or depthwise, or 1x1), batch norm, PReLU with one slope per channel."""

    def __init__(self, cin: int, cout: int, stride: int, depthwise: bool, kernel: int):
        pad = kernel // 2
        groups = cin if depthwise else 1
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=False),
                         nn.BatchNorm2d(cout, eps=BN_EPS), nn.PReLU(cout))


class SFaceNet(nn.Module):
    """uint8-valued float RGB NCHW (N, 3, 112, 112) -> (N, 128) unnormalised embeddings."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for i, (cout, stride, depthwise) in enumerate(CONVS):
            kernel = 3 if i == 0 or depthwise else 1
            layers.append(ConvBNPReLU(cin, cout, stride, depthwise, kernel))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.bn1 = nn.BatchNorm2d(cin, eps=HEAD_BN_EPS)
        self.fc = nn.Linear(cin * 7 * 7, EMBEDDING_DIM)
        self.bn_fc = nn.BatchNorm1d(EMBEDDING_DIM, eps=HEAD_BN_EPS)
        self.register_buffer("mean", torch.tensor(127.5))
        self.register_buffer("scale", torch.tensor(0.0078125))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * self.scale
        x = self.bn1(self.features(x))
        return self.bn_fc(self.fc(torch.flatten(x, 1)))


def _bn_state(values: dict, node, module: nn.Module) -> dict[str, np.ndarray]:
    """A BatchNormalization node's parameters; the module takes the file's epsilon (a float32)."""
    module.eps = float(node.attributes.get("epsilon", 1e-5))
    gamma, beta, mean, var = (values[n] for n in node.inputs[1:5])
    return {"weight": gamma, "bias": beta, "running_mean": mean, "running_var": var}


def load_sface_weights(net: SFaceNet, model: Model) -> SFaceNet:
    """Copy the weights of the ONNX SFace graph into ``net``, checking every node and shape."""
    values = fold_constants(model)
    fail = lambda what: ModelFileError(model.path, f"not the SFace graph we know: {what}")  # noqa: E731
    nodes = [n for n in model.graph.nodes if n.op_type not in ("DequantizeLinear", "Reshape", "Constant")]
    ops = [n.op_type for n in nodes]
    expected = ["Sub", "Mul"] + ["Conv", "BatchNormalization", "PRelu"] * len(CONVS) + \
        ["BatchNormalization", "Dropout", "Flatten", "Gemm", "BatchNormalization"]
    if ops != expected:
        raise fail(f"operators {ops[:8]}... differ from the expected sequence")
    state: dict[str, np.ndarray] = {"mean": values[nodes[0].inputs[1]].reshape(()),
                                    "scale": values[nodes[1].inputs[1]].reshape(())}
    for i, block in enumerate(net.features):
        conv, bn, prelu = nodes[2 + 3 * i: 5 + 3 * i]
        attrs, module = conv.attributes, block[0]
        if (list(attrs.get("strides", [1, 1])) != [module.stride[0]] * 2 or attrs.get("group", 1) != module.groups
                or list(attrs.get("pads", [0] * 4)) != [module.padding[0]] * 4 or len(conv.inputs) != 2):
            raise fail(f"convolution {i} has attributes {attrs}")
        state[f"features.{i}.0.weight"] = values[conv.inputs[1]]
        for key, value in _bn_state(values, bn, block[1]).items():
            state[f"features.{i}.1.{key}"] = value
        state[f"features.{i}.2.weight"] = values[prelu.inputs[1]].reshape(-1)
    head = nodes[2 + 3 * len(CONVS):]
    for key, value in _bn_state(values, head[0], net.bn1).items():
        state[f"bn1.{key}"] = value
    gemm = head[3]
    if gemm.attributes.get("transB") != 1 or gemm.attributes.get("alpha", 1.0) != 1.0:
        raise fail(f"Gemm attributes {gemm.attributes}")
    state["fc.weight"], state["fc.bias"] = values[gemm.inputs[1]], values[gemm.inputs[2]]
    for key, value in _bn_state(values, head[4], net.bn_fc).items():
        state[f"bn_fc.{key}"] = value
    own = net.state_dict()
    for key, value in state.items():
        if key not in own or tuple(own[key].shape) != value.shape:
            raise fail(f"{key}: shape {value.shape}, expected {tuple(own[key].shape) if key in own else None}")
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise fail(f"no weights for {missing[:3]}")
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()},
                        strict=False)
    return net.eval()
