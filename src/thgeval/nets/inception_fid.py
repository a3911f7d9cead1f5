"""The Inception-v3 of FID (Heusel et al. 2017) as pytorch-fid runs it: the TensorFlow FID
graph's weights (``pt_inception-2015-12-05-6726825d.pth``) in torchvision's Inception-v3
layout, with the graph's differences from torchvision kept:

- the average-pool branch of the 35×35, 17×17 and first 8×8 mixed blocks does not count
  the zero padding (TensorFlow's ``avg_pool`` with SAME padding);
- the last mixed block (``Mixed_7c``) pools its pool branch with a *max* pool;
- 1008 output classes (unused: features are the 2048-d global average pool).

Input, two front ends (``preprocess``):

- ``"pytorch-fid"``: frames in [0, 1], resized to 299×299 inside the network (bilinear,
  ``align_corners=False``), scaled to [−1, 1];
- ``"clean"`` (GaParmar/clean-fid, mode "clean"): each channel resized to 299×299 as a
  32-bit float PIL image with PIL's antialiased bicubic and clipped to 0–255
  (``cleanfid/resize.py``, ``make_resizer("PIL", False, "bicubic", (299, 299))``), then
  ``(x − 128) / 128`` as its TorchScript wrapper does (``cleanfid/inception_torchscript.py``,
  ``InceptionV3W.forward`` with ``resize_inside=False``).

Output: (N, 2048) pool3 features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .state import load_checked, random_state

FEATURE_DIM = 2048


def _pool_branch(block, x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "max":
        return block.branch_pool(F.max_pool2d(x, kernel_size=3, stride=1, padding=1))
    return block.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))


def _mixed_a(b, x):  # 35×35 block
    b5 = b.branch5x5_2(b.branch5x5_1(x))
    b3 = b.branch3x3dbl_3(b.branch3x3dbl_2(b.branch3x3dbl_1(x)))
    return torch.cat([b.branch1x1(x), b5, b3, _pool_branch(b, x, "avg")], 1)


def _mixed_c(b, x):  # 17×17 block with factorised 7×7 convolutions
    b7 = b.branch7x7_3(b.branch7x7_2(b.branch7x7_1(x)))
    d = b.branch7x7dbl_1(x)
    for conv in (b.branch7x7dbl_2, b.branch7x7dbl_3, b.branch7x7dbl_4, b.branch7x7dbl_5):
        d = conv(d)
    return torch.cat([b.branch1x1(x), b7, d, _pool_branch(b, x, "avg")], 1)


def _mixed_e(b, x, pool: str):  # 8×8 block with split 1×3 / 3×1 branches
    s = b.branch3x3_1(x)
    b3 = torch.cat([b.branch3x3_2a(s), b.branch3x3_2b(s)], 1)
    d = b.branch3x3dbl_2(b.branch3x3dbl_1(x))
    bd = torch.cat([b.branch3x3dbl_3a(d), b.branch3x3dbl_3b(d)], 1)
    return torch.cat([b.branch1x1(x), b3, bd, _pool_branch(b, x, pool)], 1)


class FIDInception(nn.Module):
    """pool3 features of the FID Inception-v3; loads the released state dict by name."""

    def __init__(self, weights: str | Path | dict | None = None):
        super().__init__()
        from torchvision.models.inception import Inception3

        # torchvision's modules give the parameter names of the released file; the forward
        # pass below is the FID graph's, not torchvision's
        net = Inception3(num_classes=1008, aux_logits=False, init_weights=False, transform_input=False)
        for name, child in net.named_children():
            if name not in ("avgpool", "dropout", "AuxLogits", "maxpool1", "maxpool2"):
                self.add_module(name, child)
        if weights is not None:
            self.load(weights)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def load(self, src) -> None:
        load_checked(self, src, "the FID Inception-v3 state dict")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W in [0, 1] → (N, 2048) (pytorch-fid's resize and scaling)."""
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.trunk(2 * x - 1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×299×299 already scaled to the graph's [−1, 1] → (N, 2048)."""
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
            x = getattr(self, name)(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
            x = _mixed_a(getattr(self, name), x)
        x = self.Mixed_6a(x)
        for name in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = _mixed_c(getattr(self, name), x)
        x = self.Mixed_7a(x)
        x = _mixed_e(self.Mixed_7b, x, "avg")
        x = _mixed_e(self.Mixed_7c, x, "max")
        return x.mean(dim=(2, 3))


CLEAN_SIZE = 299


def clean_resize(frame: np.ndarray, size: int = CLEAN_SIZE) -> np.ndarray:
    """clean-fid's "clean" resize of one H×W×3 frame: each channel as a mode-"F" (float32)
    PIL image, ``Image.BICUBIC`` (PIL antialiases when downscaling), clipped to 0–255;
    (size, size, 3) float32. Float per channel, so no uint8 quantisation after the filter
    (Parmar et al. 2022, "On aliased resizing and surprising subtleties in GAN evaluation")."""
    from PIL import Image

    out = np.empty((size, size, 3), np.float32)
    for c in range(3):
        img = Image.fromarray(np.ascontiguousarray(frame[..., c], dtype=np.float32))  # 2-D float32: mode "F"
        out[..., c] = np.asarray(img.resize((size, size), resample=Image.BICUBIC))
    return np.clip(out, 0, 255, out=out)


PREPROCESS = ("pytorch-fid", "clean")


@torch.inference_mode()
def fid_features(model: FIDInception, frames: np.ndarray, *, batch_size: int = 32,
                 preprocess: str = "pytorch-fid") -> np.ndarray:
    """(N, 2048) float32 pool3 features of T×H×W×3 uint8 RGB frames.

    ``preprocess="pytorch-fid"``: pixel / 255 (as pytorch-fid's image loader gives them),
    bilinear resize in the network. ``"clean"``: :func:`clean_resize`, then
    ``(x − 128) / 128`` (clean-fid's order of float32 operations).
    """
    if preprocess not in PREPROCESS:
        raise ValueError(f"preprocess must be one of {PREPROCESS}; got {preprocess!r}")
    device = next(model.parameters()).device
    out = np.empty((len(frames), FEATURE_DIM), np.float32)
    for s in range(0, len(frames), batch_size):
        chunk = frames[s:s + batch_size]
        if preprocess == "clean":
            x = torch.from_numpy(np.stack([clean_resize(f) for f in chunk])).to(device).permute(0, 3, 1, 2)
            feats = model.trunk((x - 128) / 128)
        else:
            t = torch.from_numpy(np.ascontiguousarray(chunk)).to(device)
            feats = model(t.permute(0, 3, 1, 2).float().div_(255.0))
        out[s:s + len(chunk)] = feats.float().cpu().numpy()
    return out


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the released file's layout (tests, benchmarks)."""
    return random_state(FIDInception(), seed)
