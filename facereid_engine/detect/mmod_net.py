"""The MMOD face detector's convolutions as a torch module (batch-norm folded into each conv)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .model_file import ConvSpec


class MMODNet(nn.Module):
    """Seven convolutions: 3 x (5x5/2) downsampling, 3 x (5x5/1), then one 9x9 scoring filter per window."""

    def __init__(self, convs: Sequence[ConvSpec]):
        super().__init__()
        self.specs = [(c.stride, c.padding, c.relu) for c in convs]
        # channels-last weights: oneDNN's fastest layout for these small convolutions on CPU
        self.weights = nn.ParameterList(
            nn.Parameter(torch.from_numpy(c.weight.copy()).contiguous(memory_format=torch.channels_last),
                         requires_grad=False) for c in convs)
        self.biases = nn.ParameterList(
            nn.Parameter(torch.from_numpy(c.bias.copy()), requires_grad=False) for c in convs)

    @property
    def min_input(self) -> int:
        """The smallest input side for which every convolution still has an output."""
        size = 1
        for w, (stride, padding, _) in zip(reversed(list(self.weights)), reversed(self.specs)):
            size = (size - 1) * stride + w.shape[-1] - 2 * padding
        return size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        for w, b, (stride, padding, relu) in zip(self.weights, self.biases, self.specs):
            x = F.conv2d(x, w, b, stride=stride, padding=padding)
            if relu:
                x = F.relu(x, inplace=True)
        return x
