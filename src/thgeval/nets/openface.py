"""OpenFace nn4.small2 (96×96 input, 128-d unit-norm embedding) in the layout of the PyTorch
port that FOMM's AED uses, so the released state dicts load by name.

Reference: thnkim/OpenFacePytorch ``loadOpenFace.py`` (``netOpenFace``; weights
``openface.pth`` / ``openface_20180119.pth``, converted from OpenFace's Torch7
``nn4.small2.v1.t7``), as called by AliaksandrSiarohin/pose-evaluation ``extract.py
--type face_id``. Module names (``layer1`` … ``layer25``, ``seq_list.N.K_conv``) follow the
checkpoint's keys; the arithmetic is restated here, not copied.

Network: B. Amos, B. Ludwiczuk, M. Satyanarayanan, "OpenFace: A general-purpose face
recognition library with mobile applications", CMU-CS-16-118, 2016.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

# How the cross-map LRN of layers 5 and 12 is computed:
#  "torch": torch.nn.LocalResponseNorm, the textbook window c−2…c+2; what the port runs on
#           torch ≥ 1.0, where its torch.legacy import fails and it falls back to it.
#  "legacy-port": the port's SpatialCrossMapLRN_temp (torch.legacy, torch ≤ 0.4.1, the
#           version pose-evaluation pins): its running window never drops channel 0, so from
#           channel 3 on the sum holds x₀² besides c−2…c+2.
LRN_MODES = ("torch", "legacy-port")


class CrossMapLRN(nn.Module):
    """Cross-channel LRN ``x / (k + α/n · Σ x²)^β`` over ``n`` neighbouring channels."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                 mode: str = "torch"):
        super().__init__()
        if mode not in LRN_MODES:
            raise ValueError(f"LRN mode must be one of {LRN_MODES}; got {mode!r}")
        self.size, self.alpha, self.beta, self.k, self.mode = size, alpha, beta, k, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "torch":
            return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)
        sq = x * x
        c = x.shape[1]
        half = (self.size - 1) // 2
        # windowed sums by a cumulative sum over channels (zero outside 0…C−1)
        cs = F.pad(torch.cumsum(sq, 1), (0, 0, 0, 0, 1, 0))
        idx = torch.arange(c, device=x.device)
        hi = (idx + half + 1).clamp(max=c)
        lo = (idx - half).clamp(min=0)
        s = cs[:, hi] - cs[:, lo]
        # the port's off-by-one: channel 0's square is never subtracted once the window passes it
        stale = idx > half
        s = s + torch.where(stale[None, :, None, None], sq[:, :1], torch.zeros_like(sq[:, :1]))
        return x * (s * (self.alpha / self.size) + self.k).pow(-self.beta)


def _conv_bn_relu(prefix: int, cin: int, cout: int, kernel: int, stride: int) -> list:
    """(name, module) triples for conv → batch norm → ReLU, numbered from ``prefix``."""
    return [(f"{prefix}_conv", nn.Conv2d(cin, cout, kernel, stride, kernel // 2)),
            (f"{prefix + 1}_bn", nn.BatchNorm2d(cout)),
            (f"{prefix + 2}_relu", nn.ReLU())]


class Inception(nn.Module):
    """An nn4.small2 inception block: per kernel a 1×1 reduce then k×k conv; a pooling branch
    (optionally followed by a 1×1 conv); optionally a plain 1×1 branch. Branches of smaller
    spatial size are zero-padded (centred, extra row/column at the end) to the largest
    before concatenation — the Torch7 ``nn.DepthConcat`` behaviour the port keeps."""

    def __init__(self, cin: int, kernels, strides, outs, reduces, pool: nn.Module):
        super().__init__()
        branches = []
        for k, s, o, r in zip(kernels, strides, outs, reduces):
            branches.append(nn.Sequential(OrderedDict(
                _conv_bn_relu(1, cin, r, 1, 1) + _conv_bn_relu(4, r, o, k, s))))
        n = len(kernels)
        pool_layers = [("1_pool", pool)]
        if len(reduces) > n and reduces[n] is not None:
            pool_layers += _conv_bn_relu(2, cin, reduces[n], 1, 1)
        branches.append(nn.Sequential(OrderedDict(pool_layers)))
        if len(reduces) > n + 1 and reduces[n + 1] is not None:
            branches.append(nn.Sequential(OrderedDict(_conv_bn_relu(1, cin, reduces[n + 1], 1, 1))))
        self.seq_list = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ys = [b(x) for b in self.seq_list]
        h = max(y.shape[2] for y in ys)
        w = max(y.shape[3] for y in ys)
        out = []
        for y in ys:
            dh, dw = h - y.shape[2], w - y.shape[3]
            out.append(F.pad(y, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)))
        return torch.cat(out, 1)


class OpenFaceNet(nn.Module):
    """nn4.small2: ``forward`` takes (N, 3, 96, 96) float images (the port's callers feed BGR
    in [0, 1]) and returns the (N, 128) embedding divided by ``sqrt(Σx² + 1e-6)``."""

    def __init__(self, lrn: str = "torch"):
        super().__init__()
        mp = lambda: nn.MaxPool2d(3, 2, 0)  # noqa: E731
        lp = lambda: nn.LPPool2d(2, 3, stride=3)  # noqa: E731
        self.layer1 = nn.Conv2d(3, 64, 7, 2, 3)
        self.layer2 = nn.BatchNorm2d(64)
        self.layer3 = nn.ReLU()
        self.layer4 = nn.MaxPool2d(3, 2, 1)
        self.layer5 = CrossMapLRN(5, 1e-4, 0.75, 1.0, lrn)
        self.layer6 = nn.Conv2d(64, 64, 1)
        self.layer7 = nn.BatchNorm2d(64)
        self.layer8 = nn.ReLU()
        self.layer9 = nn.Conv2d(64, 192, 3, 1, 1)
        self.layer10 = nn.BatchNorm2d(192)
        self.layer11 = nn.ReLU()
        self.layer12 = CrossMapLRN(5, 1e-4, 0.75, 1.0, lrn)
        self.layer13 = nn.MaxPool2d(3, 2, 1)
        self.layer14 = Inception(192, (3, 5), (1, 1), (128, 32), (96, 16, 32, 64), mp())
        self.layer15 = Inception(256, (3, 5), (1, 1), (128, 64), (96, 32, 64, 64), lp())
        self.layer16 = Inception(320, (3, 5), (2, 2), (256, 64), (128, 32, None, None), mp())
        self.layer17 = Inception(640, (3, 5), (1, 1), (192, 64), (96, 32, 128, 256), lp())
        self.layer18 = Inception(640, (3, 5), (2, 2), (256, 128), (160, 64, None, None), mp())
        self.layer19 = Inception(1024, (3,), (1,), (384,), (96, 96, 256), lp())
        self.layer21 = Inception(736, (3,), (1,), (384,), (96, 96, 256), mp())
        self.layer22 = nn.AvgPool2d(3, 1)
        self.layer25 = nn.Linear(736, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 128:  # the port's 128-px path: nearest ×3 then 4×4 average → 96
            x = F.avg_pool2d(F.interpolate(x, scale_factor=3, mode="nearest"), 4)
        for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22):
            x = getattr(self, f"layer{i}")(x)
        x = self.layer25(x.reshape(-1, 736))
        return x / torch.sqrt((x * x).sum(1) + 1e-6)[:, None]


def load_openface(src, lrn: str = "torch") -> OpenFaceNet:
    """An :class:`OpenFaceNet` in eval mode with the state dict of ``src`` (a path to the
    released ``openface.pth``-format file, or a dict), checked by name and shape."""
    from .state import load_checked

    net = OpenFaceNet(lrn)
    load_checked(net, src, "an OpenFace nn4.small2 state dict (thnkim/OpenFacePytorch openface.pth)")
    return net.eval()
