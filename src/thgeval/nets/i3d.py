"""Inflated 3D ConvNet (I3D; Carreira & Zisserman, "Quo Vadis, Action Recognition?", CVPR
2017), RGB stream, 400 Kinetics classes: the video network of FVD (Unterthiner et al. 2018).

The layout and parameter names are those of the PyTorch port whose Kinetics-400 checkpoint
``i3d_pretrained_400.pt`` FVD codes load (VideoGPT, TATS, DisCo, cd-fvd): ``Conv3d_1a_7x7``
… ``Mixed_5c`` blocks of ``Unit3D`` (3-D convolution without bias, batch norm eps 1e-5,
ReLU) with TensorFlow "SAME" padding computed from the input size (zeros, the extra pixel at
the end), inception modules of four branches (1×1; 1×1→3×3; 1×1→3×3; 3×3 max pool→1×1),
a 2×7×7 average pool, a 1×1 ``logits`` convolution with bias, squeezed and averaged over time.

piergiaj/pytorch-i3d itself (the copy DisCo ships, ``tool/metrics/inception3d.py``) differs in
two constants, both parameters here: batch norm eps 1e-3 and a 1×7×7 average pool (every
time step's logits enter the mean, not pairs of them).

Input: N×3×T×H×W in [−1, 1] (T = 16, H = W = 224 in the FVD protocols). Output: (N, 400).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .state import load_checked, random_state

N_CLASSES = 400


def _same_pad(size: int, kernel: int, stride: int) -> Tuple[int, int]:
    total = max(kernel - (stride if size % stride == 0 else size % stride), 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: List[int], stride: List[int]) -> torch.Tensor:
    t0, t1 = _same_pad(x.shape[2], kernel[0], stride[0])
    h0, h1 = _same_pad(x.shape[3], kernel[1], stride[1])
    w0, w1 = _same_pad(x.shape[4], kernel[2], stride[2])
    return F.pad(x, [w0, w1, h0, h1, t0, t1])


class Unit3D(nn.Module):
    def __init__(self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), *, bn: bool = True,
                 relu: bool = True, bias: bool = False, eps: float = 1e-5):
        super().__init__()
        self.kernel: List[int] = list(kernel)
        self.stride: List[int] = list(stride)
        self.relu = relu
        self.conv3d = nn.Conv3d(cin, cout, tuple(kernel), tuple(stride), padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=eps, momentum=0.001) if bn else None

    def forward(self, x):
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPoolSame(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel: List[int] = list(kernel)
        self.stride: List[int] = list(stride)

    def forward(self, x):
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class Mixed(nn.Module):
    """An inception module: out = [1×1 | 1×1→3×3 | 1×1→3×3 | pool→1×1] along channels."""

    def __init__(self, cin: int, c: tuple[int, int, int, int, int, int], eps: float = 1e-5):
        super().__init__()
        self.b0 = Unit3D(cin, c[0], eps=eps)
        self.b1a, self.b1b = Unit3D(cin, c[1], eps=eps), Unit3D(c[1], c[2], (3, 3, 3), eps=eps)
        self.b2a, self.b2b = Unit3D(cin, c[3], eps=eps), Unit3D(c[3], c[4], (3, 3, 3), eps=eps)
        self.b3a, self.b3b = MaxPoolSame((3, 3, 3), (1, 1, 1)), Unit3D(cin, c[5], eps=eps)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)


_MIXED = {  # name: (input channels, branch widths)
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


class I3D(nn.Module):
    """I3D RGB; ``forward`` gives the 400 logits averaged over time (FVD's features).

    ``bn_eps`` and ``pool_t`` (temporal extent of the final average pool) default to the
    VideoGPT / TATS port (1e-5, 2); piergiaj/pytorch-i3d as DisCo uses it is (1e-3, 1).
    """

    def __init__(self, weights: str | Path | dict | None = None, *, bn_eps: float = 1e-5, pool_t: int = 2):
        super().__init__()
        e = bn_eps
        self.pool_t = pool_t
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2), eps=e)
        self.MaxPool3d_2a_3x3 = MaxPoolSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64, eps=e)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3), eps=e)
        self.MaxPool3d_3a_3x3 = MaxPoolSame((1, 3, 3), (1, 2, 2))
        for name in ("Mixed_3b", "Mixed_3c"):
            self.add_module(name, Mixed(*_MIXED[name], eps=e))
        self.MaxPool3d_4a_3x3 = MaxPoolSame((3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            self.add_module(name, Mixed(*_MIXED[name], eps=e))
        self.MaxPool3d_5a_2x2 = MaxPoolSame((2, 2, 2), (2, 2, 2))
        for name in ("Mixed_5b", "Mixed_5c"):
            self.add_module(name, Mixed(*_MIXED[name], eps=e))
        self.logits = Unit3D(1024, N_CLASSES, bn=False, relu=False, bias=True)
        if weights is not None:
            self.load(weights)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def load(self, src) -> None:
        load_checked(self, src, "an I3D (i3d_pretrained_400.pt layout) state dict")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.MaxPool3d_2a_3x3(self.Conv3d_1a_7x7(x))
        x = self.MaxPool3d_3a_3x3(self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x)))
        x = self.MaxPool3d_4a_3x3(self.Mixed_3c(self.Mixed_3b(x)))
        x = self.Mixed_4f(self.Mixed_4e(self.Mixed_4d(self.Mixed_4c(self.Mixed_4b(x)))))
        x = self.Mixed_5c(self.Mixed_5b(self.MaxPool3d_5a_2x2(x)))
        x = self.logits(F.avg_pool3d(x, (self.pool_t, 7, 7), stride=1))  # dropout is the identity at inference
        return x.squeeze(3).squeeze(3).mean(dim=2)


def tats_inputs(clips, size: int = 224) -> torch.Tensor:
    """B×T×H×W×3 uint8 clips (array or tensor) → B×3×T×size×size in [−1, 1] as TATS / cd-fvd
    prepare them: bilinear resize (``align_corners=False``) on the 0–255 scale, then 2·x/255 − 1."""
    x = torch.as_tensor(clips)
    b, t, h, w, c = x.shape
    f = x.reshape(b * t, h, w, c).permute(0, 3, 1, 2).float()
    f = F.interpolate(f, size=(size, size), mode="bilinear", align_corners=False)
    return 2.0 * f.reshape(b, t, c, size, size).transpose(1, 2) / 255.0 - 1.0


def cmvq_inputs(clips, size: int = 224) -> torch.Tensor:
    """B×T×H×W×3 uint8 clips → B×3×T×size×size in [−1, 1] as common_metrics_on_video_quality's
    ``fvd/styleganv/fvd.py`` ``preprocess_single`` prepares its [0, 1] videos: bilinear
    (``align_corners=False``, no antialiasing) resize of the short side to ``size``, the long
    side to ``ceil(long · size / short)``, centre crop (offsets floored), then (x − 0.5)·2.
    Same float32 operations in the same order, so the same tensor."""
    x = torch.as_tensor(clips)
    b, t, h, w, c = x.shape
    f = x.reshape(b * t, h, w, c).permute(0, 3, 1, 2).float() / 255.0  # their input is in [0, 1]
    scale = size / min(h, w)
    target = (size, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), size)
    f = F.interpolate(f, size=target, mode="bilinear", align_corners=False)
    h0, w0 = (target[0] - size) // 2, (target[1] - size) // 2
    f = f[:, :, h0:h0 + size, w0:w0 + size]
    return ((f - 0.5) * 2).reshape(b, t, c, size, size).transpose(1, 2).contiguous()


def disco_inputs(clips, size: int = 224) -> torch.Tensor:
    """B×T×H×W×3 uint8 clips → B×3×T×size×size in [−1, 1] as DisCo's
    ``tool/metrics/utils.py`` ``DatasetFVDVideoResize`` prepares a video: PIL bicubic resize of
    each channel as a float image to size×size (``make_resizer("PIL", False, "bicubic")``, no
    aspect kept, no crop, no rounding), then x/127.5 − 1."""
    from ..io.pil_resize import pil_resize_float

    x = torch.from_numpy(pil_resize_float(np.asarray(clips), (size, size)))  # B×T×s×s×3 float32
    return (x / 127.5 - 1).permute(0, 4, 1, 2, 3).contiguous()


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the released file's layout (tests, benchmarks)."""
    return random_state(I3D(), seed)


def latentsync_box(relative, width: int, height: int) -> tuple[int, int, int, int]:
    """A relative face box (xmin, ymin, width, height, fractions of the frame) → pixels as
    bytedance/LatentSync ``eval/eval_fvd.py`` ``FVD.detect_face`` truncates it: ``int(r · W)``
    for each, before any clamping."""
    xmin, ymin, w, h = relative
    return int(xmin * width), int(ymin * height), int(w * width), int(h * height)


def latentsync_inputs(clips, boxes, size: int = 224) -> torch.Tensor:
    """B×T×H×W×3 uint8 clips and B×T×4 pixel face boxes (x, y, w, h) → B×3×T×size×size in
    [0, 1] as bytedance/LatentSync ``eval/eval_fvd.py`` prepares a video for its I3D: each
    frame cropped to its box, clamped the way ``detect_face`` clamps it (the left/top edge to
    0 first, then the right/bottom edge to the frame from the *clamped* corner, so a box that
    sticks out on the left keeps its width), ``cv2.resize(…, (size, size), INTER_AREA)`` on
    uint8, then ``/ 255.0`` in float32. No mapping to [−1, 1]: LatentSync hands [0, 1] to the
    StyleGAN-V TorchScript detector called with ``rescale=False`` (``eval/fvd.py``)."""
    import cv2

    clips, boxes = np.asarray(clips), np.asarray(boxes)
    b, t, h, w, c = clips.shape
    faces = np.empty((b, t, size, size, c), np.uint8)
    for i in range(b):
        for j in range(t):
            x0, y0, bw, bh = (int(v) for v in boxes[i, j])
            x0, y0 = max(0, x0), max(0, y0)
            face = clips[i, j, y0:min(h, y0 + bh), x0:min(w, x0 + bw)]
            if not face.size:
                raise ValueError(f"empty face crop for box {tuple(boxes[i, j])} in a {w}×{h} frame")
            faces[i, j] = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
    return (torch.from_numpy(faces) / 255.0).permute(0, 4, 1, 2, 3).contiguous()
