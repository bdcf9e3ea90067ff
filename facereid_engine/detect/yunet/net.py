"""YuNet (OpenCV Zoo ``face_detection_yunet_2023mar``, libfacedetection) as a PyTorch module.

A tiny backbone of depthwise-separable units (1x1 convolution, then depthwise 3x3 and ReLU), a
feature pyramid over strides 8/16/32 (nearest 2x upsampling and addition), and per stride four heads
(class, objectness, box, five landmarks), each a 1x1 then a 3x3 convolution. The input is BGR, 0..255
floats, height and width multiples of 32; outputs are per stride (N, H*W, C), row-major anchors.
Weights are loaded separately (:func:`load_yunet_weights`) from the ONNX graph, in node order.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelFileError
from ...onnx import Model, fold_constants

STRIDES = (8, 16, 32)
HEADS = (("cls", 1), ("bbox", 4), ("obj", 1), ("kps", 10))  # the file's order of the head convolutions
OUTPUTS = ("cls", "obj", "bbox", "kps")  # OpenCV's order of the outputs


class DPUnit(nn.Module):
    """1x1 convolution to ``cout`` channels, depthwise 3x3 convolution, optional ReLU."""

    def __init__(self, cin: int, cout: int, relu: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, groups=cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2(self.conv1(x))
        return F.relu(x) if self.relu else x


class Head(nn.Module):
    """A 1x1 convolution to ``cout`` channels then a 3x3 one; grouped per channel when ``cout`` > 1."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, groups=cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class YuNet(nn.Module):
    """BGR float (N, 3, H, W), H and W multiples of 32 -> {"cls_8": (N, H/8*W/8, 1), ..., "kps_32": ...}."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        # stages 0, 2, 3 and 4 are followed by a 2x2 max pool
        self.stages = nn.ModuleList([
            nn.Sequential(DPUnit(16, 16)),
            nn.Sequential(DPUnit(16, 16), DPUnit(16, 32)),
            nn.Sequential(DPUnit(32, 32), DPUnit(32, width)),
            nn.Sequential(DPUnit(width, width), DPUnit(width, width)),  # stride 8
            nn.Sequential(DPUnit(width, width), DPUnit(width, width)),  # stride 16
            nn.Sequential(DPUnit(width, width), DPUnit(width, width)),  # stride 32
        ])
        self.lateral = nn.ModuleList([DPUnit(width, width) for _ in STRIDES])  # per stride 8, 16, 32
        self.heads = nn.ModuleDict({name: nn.ModuleList([Head(width, c) for _ in STRIDES]) for name, c in HEADS})

    def convolutions(self) -> list[nn.Conv2d]:
        """Every convolution in the order the ONNX file holds them."""
        convs = [self.stem]
        for stage in self.stages:
            for unit in stage:
                convs += [unit.conv1, unit.conv2]
        for i in reversed(range(len(STRIDES))):
            convs += [self.lateral[i].conv1, self.lateral[i].conv2]
        for name, _ in HEADS:
            for head in self.heads[name]:
                convs += [head.conv1, head.conv2]
        return convs

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = F.relu(self.stem(x))
        x = F.max_pool2d(self.stages[0](x), 2)
        x = F.max_pool2d(self.stages[2](self.stages[1](x)), 2)
        c3 = self.stages[3](x)
        c4 = self.stages[4](F.max_pool2d(c3, 2))
        c5 = self.stages[5](F.max_pool2d(c4, 2))
        p5 = self.lateral[2](c5)
        p4 = self.lateral[1](c4 + F.interpolate(p5, scale_factor=2.0, mode="nearest"))
        p3 = self.lateral[0](c3 + F.interpolate(p4, scale_factor=2.0, mode="nearest"))
        out = {}
        for name, _ in HEADS:
            for i, (stride, feature) in enumerate(zip(STRIDES, (p3, p4, p5))):
                y = self.heads[name][i](feature)
                y = y.permute(0, 2, 3, 1).reshape(y.shape[0], -1, y.shape[1])
                out[f"{name}_{stride}"] = torch.sigmoid(y) if name in ("cls", "obj") else y
        return out


def load_yunet_weights(net: YuNet, model: Model) -> YuNet:
    """Copy the weights of the ONNX YuNet graph into ``net``, checking every convolution."""
    values = fold_constants(model)
    convs = [n for n in model.graph.nodes if n.op_type == "Conv"]
    mine = net.convolutions()

    def fail(what: str) -> ModelFileError:
        return ModelFileError(model.path, f"not the YuNet graph we know: {what}")

    if len(convs) != len(mine):
        raise fail(f"{len(convs)} convolutions, expected {len(mine)}")
    ops = {n.op_type for n in model.graph.nodes}
    expected_ops = {"Conv", "Relu", "MaxPool", "Resize", "Add", "Transpose", "Reshape", "Sigmoid", "DequantizeLinear"}
    if not ops <= expected_ops:
        raise fail(f"unexpected operators {sorted(ops - expected_ops)}")
    state = {}
    for node, conv in zip(convs, mine):
        a = node.attributes
        geometry = (list(a.get("strides", [1, 1])), a.get("group", 1), list(a.get("pads", [0] * 4)))
        if geometry != (list(conv.stride), conv.groups, [conv.padding[0]] * 4) or len(node.inputs) != 3:
            raise fail(f"convolution {node.outputs[0]}: strides/group/pads {geometry}")
        weight, bias = (values.get(i) for i in node.inputs[1:3])
        if weight is None or bias is None:
            raise fail(f"convolution {node.outputs[0]} has weights that are not constants")
        if weight.shape != tuple(conv.weight.shape) or bias.shape != tuple(conv.bias.shape):
            raise fail(f"convolution {node.outputs[0]}: weight {weight.shape}, expected {tuple(conv.weight.shape)}")
        state[id(conv)] = (weight, bias)
    with torch.no_grad():
        for conv in mine:
            weight, bias = state[id(conv)]
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)))
            conv.bias.copy_(torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32)))
    return net.eval()
