"""LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric", CVPR) as the ``lpips`` package computes it, version 0.1.

Inputs in [−1, 1] are shifted and scaled per channel (the package's ``ScalingLayer``), passed
through the backbone (torchvision's AlexNet or VGG-16 feature layers), each of five ReLU
outputs is unit-normalised over channels (eps 1e-10 added to the norm), the squared
difference of the two images' features is weighted per channel by the v0.1 linear head (a
1×1 convolution without bias), averaged over space, and the five layers are summed.

Weights come in their published formats: the backbone as torchvision's state dict
(``alexnet-owt-7be5be79.pth``, ``vgg16-397923af.pth``), the heads as the package's
``weights/v0.1/{alex,vgg}.pth`` (keys ``lin{k}.model.1.weight``); see :mod:`thgeval.weights`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ThgevalError
from .state import read_state

# channels of the five compared layers and the feature-layer index after which each is taken
LAYERS = {
    "alex": ((64, 192, 384, 256, 256), (1, 4, 7, 9, 11)),
    "vgg": ((64, 128, 256, 512, 512), (3, 8, 15, 22, 29)),
}
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10


def _features(net: str) -> nn.Sequential:
    import torchvision

    if net == "alex":
        return torchvision.models.alexnet(weights=None).features
    if net == "vgg":
        return torchvision.models.vgg16(weights=None).features
    raise ThgevalError(f"LPIPS backbone must be 'alex' or 'vgg'; got {net!r}")


class LPIPS(nn.Module):
    """The LPIPS v0.1 distance network; ``forward(a, b)`` → (N,) distances of N image pairs."""

    def __init__(self, net: str = "alex", backbone: str | Path | dict | None = None,
                 heads: str | Path | dict | None = None):
        super().__init__()
        chns, taps = LAYERS.get(net, (None, None))
        feats = _features(net)
        self.net_name = net
        self.taps = taps
        self.features = feats[: taps[-1] + 1]
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in chns)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        if backbone is not None:
            self.load_backbone(backbone)
        if heads is not None:
            self.load_heads(heads)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def load_backbone(self, src) -> None:
        """A torchvision ``alexnet``/``vgg16`` state dict (file or dict); only ``features.*`` is used."""
        state = read_state(src)
        own = self.features.state_dict()
        got = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        missing = [k for k in own if k not in got]
        bad = [k for k in own if k in got and tuple(got[k].shape) != tuple(own[k].shape)]
        if missing or bad:
            raise ThgevalError(f"not a torchvision {self.net_name} state dict (missing or misshapen: "
                               f"{', '.join((missing + bad)[:3])})")
        self.features.load_state_dict({k: got[k] for k in own})

    def load_heads(self, src) -> None:
        """The lpips package's v0.1 linear heads (``lin{k}.model.1.weight``), file or dict."""
        state = read_state(src)
        for k, head in enumerate(self.heads):
            w = state.get(f"lin{k}.model.1.weight", state.get(f"lin{k}.model.0.weight"))
            if w is None or tuple(w.shape) != tuple(head.weight.shape):
                raise ThgevalError(f"not LPIPS v0.1 {self.net_name} heads (lin{k} missing or misshapen)")
            head.weight.data.copy_(w)

    def taps_of(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five unit-normalised feature maps of images in [−1, 1] (N×3×H×W)."""
        h = (x - self.shift) / self.scale
        out, taps = [], set(self.taps)
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in taps:
                out.append(h / (torch.sqrt((h * h).sum(1, keepdim=True)) + EPS))
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fa, fb = self.taps_of(a), self.taps_of(b)
        total = 0
        for head, x, y in zip(self.heads, fa, fb):
            total = total + head((x - y) ** 2).mean(dim=(2, 3))
        return total[:, 0]


def to_unit_range(frames: np.ndarray, device) -> torch.Tensor:
    """T×H×W×3 uint8 RGB → T×3×H×W float32 in [−1, 1] on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(frames)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


@torch.inference_mode()
def lpips_distances(model: LPIPS, pred: np.ndarray, gt: np.ndarray, *, batch_size: int = 16) -> np.ndarray:
    """(T,) LPIPS of frame pairs (T×H×W×3 uint8 RGB each), batched on the model's device."""
    if pred.shape != gt.shape:
        raise ValueError(f"frame batches differ in shape: {pred.shape} vs {gt.shape}")
    device = model.shift.device
    out = np.empty(len(pred), np.float64)
    for s in range(0, len(pred), batch_size):
        a = to_unit_range(pred[s:s + batch_size], device)
        b = to_unit_range(gt[s:s + batch_size], device)
        out[s:s + len(a)] = model(a, b).double().cpu().numpy()
    return out
