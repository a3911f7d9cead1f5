"""IR-SE-50 ArcFace backbone in the layout of TreB1eN/InsightFace_Pytorch's ``model_ir_se50.pth``
(``model.py``: ``Backbone(50, drop_ratio=0.6, mode='ir_se')``), the identity network of
saic-violet/bilayer-model's CSIM (``losses/csim.py`` carries a copy of the same class).

Written here from the architecture, with the released state dict's key names:
``input_layer.{0,1,2}`` (3×3 conv, BN, PReLU), ``body.N`` (24 bottlenecks: 3/4/14/3 units of
64/128/256/512 channels, the first of each stage with stride 2), each with ``res_layer``
(BN, 3×3 conv, PReLU, 3×3 conv with the stride, BN, squeeze-excitation ``fc1``/``fc2`` 1×1
convs, reduction 16) and ``shortcut_layer`` (a 1×1 max pool with the stride where the width is
kept, else 1×1 conv + BN), and ``output_layer.{0,3,4}`` (BN, dropout, flatten,
512·7·7→512 linear, BN1d). The output is L2-normalised, as ``Backbone.forward`` returns it.
Input: N×3×112×112 RGB in [−1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .state import load_checked, random_state

STAGES = {50: (3, 4, 14, 3), 100: (3, 13, 30, 3), 152: (3, 8, 36, 3)}
WIDTHS = (64, 128, 256, 512)


class _SE(nn.Module):
    def __init__(self, c: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(c // reduction, c, 1, bias=False)

    def forward(self, x):
        w = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(w))))


class _Unit(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, se: bool = True):
        super().__init__()
        if cin == cout:
            # a 1×1 max pool is plain subsampling
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        layers = [nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.PReLU(cout),
                  nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]
        if se:
            layers.append(_SE(cout))
        self.res_layer = nn.Sequential(*layers)

    def forward(self, x):
        return self.res_layer(x) + self.shortcut_layer(x)


class IRSE(nn.Module):
    """TreB1eN's ``Backbone(num_layers, drop_ratio, mode)``, in eval use only."""

    def __init__(self, num_layers: int = 50, se: bool = True, weights: str | Path | dict | None = None):
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        units, cin = [], 64
        for n, cout in zip(STAGES[num_layers], WIDTHS):
            for i in range(n):
                units.append(_Unit(cin, cout, 2 if i == 0 else 1, se))
                cin = cout
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(0.6), nn.Flatten(),
                                          nn.Linear(512 * 7 * 7, 512), nn.BatchNorm1d(512))
        self.eval()
        if weights is not None:
            self.load(weights)

    def load(self, src) -> None:
        load_checked(self, src, "an IR-SE ArcFace state dict (TreB1eN model_ir_se50.pth layout)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.output_layer(self.body(self.input_layer(x)))
        return x / torch.norm(x, 2, 1, True)


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded random IR-SE-50 weights in the released file's layout (tests, benchmarks)."""
    return random_state(IRSE(50), seed)
