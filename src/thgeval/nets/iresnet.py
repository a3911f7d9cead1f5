"""IResNet (arcface_torch, deepinsight/insightface ``recognition/arcface_torch/backbones/iresnet.py``)
in the layout of its released ``backbone.pth`` files, e.g. the MS1MV3 ``r100`` that
dc3ea9f/vico_challenge_baseline's ``evaluations/arcface_torch/compute_csim.py`` loads with
``get_model('r100', fp16=False)``.

Written here from the architecture, with the released key names: ``conv1``/``bn1``/``prelu``
(3×3 stem, 64 channels, stride 1), ``layer1``–``layer4`` of ``IBasicBlock``s (BN, 3×3 conv,
BN, PReLU, 3×3 conv with the stride, BN; the first block of each layer has stride 2 and a
``downsample`` 1×1 conv + BN), then ``bn2``, flatten, dropout (0 at inference), ``fc``
512·7·7→512 and the ``features`` BatchNorm1d. The embedding is *not* normalised.
Input: N×3×112×112 RGB in [−1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .state import load_checked, random_state

LAYERS = {"r18": (2, 2, 2, 2), "r34": (3, 4, 6, 3), "r50": (3, 4, 14, 3), "r100": (3, 13, 30, 3),
          "r200": (6, 26, 60, 6)}


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-5))

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.downsample is None else self.downsample(x))


class IResNet(nn.Module):
    """arcface_torch ``iresnetNN(False, fp16=False)``, in eval use only."""

    def __init__(self, arch: str = "r100", num_features: int = 512, weights: str | Path | dict | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        cin = 64
        for i, (n, cout) in enumerate(zip(LAYERS[arch], (64, 128, 256, 512))):
            setattr(self, f"layer{i + 1}", nn.Sequential(*[_Block(cin if j == 0 else cout, cout, 2 if j == 0 else 1)
                                                           for j in range(n)]))
            cin = cout
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.fc = nn.Linear(512 * 7 * 7, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-5)
        self.eval()
        if weights is not None:
            self.load(weights)

    def load(self, src) -> None:
        load_checked(self, src, "an arcface_torch IResNet state dict (backbone.pth layout)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.features(self.fc(torch.flatten(self.bn2(x), 1)))


def random_state_dict(seed: int = 0, arch: str = "r100") -> dict[str, torch.Tensor]:
    """Seeded random IResNet weights in the released file's layout (tests, benchmarks).

    The last BN of each residual branch is scaled by 0.1: with unit-variance branches the 49
    residual sums of r100 overflow float32."""
    state = random_state(IResNet(arch), seed)
    for k in state:
        if ".bn3." in k and k.endswith(("weight", "bias")):
            state[k] = state[k] * 0.1
    return state
