"""A TorchScript stand-in for StyleGAN-V's I3D detector that accepts only float clips as a given
reference feeds them (cmvq: [−1, 1], any length; LatentSync: [0, 1], 16 frames), called with
``rescale=False, resize=False, return_features=True``; anything else raises."""

from __future__ import annotations

import torch


class FloatClipDetector(torch.nn.Module):
    def __init__(self, net: torch.nn.Module, lo: float, hi: float, frames: int = 0):
        super().__init__()
        self.net = net
        self.lo, self.hi, self.frames = lo, hi, frames  # frames 0: any length

    def forward(self, x: torch.Tensor, rescale: bool = True, resize: bool = True,
                return_features: bool = False) -> torch.Tensor:
        if rescale or resize or not return_features:
            raise RuntimeError("the reference calls the detector with rescale=False, resize=False, return_features=True")
        if x.dtype != torch.float32 or x.shape[1] != 3 or x.shape[3] != 224 or x.shape[4] != 224:
            raise RuntimeError("expected float N×3×T×224×224")
        if self.frames > 0 and x.shape[2] != self.frames:
            raise RuntimeError("wrong number of frames")
        if float(x.min()) < self.lo or float(x.max()) > self.hi:
            raise RuntimeError("values outside the reference's range")
        return self.net(x)


def same_and_other(root, media) -> dict:
    """A GT folder of two GRID clips and two generated methods: ``same`` (the GT clips
    themselves, FVD 0) and ``other`` (other speakers). Returns {name: folder} with ``gt``."""
    for d in ("gt", "same", "other"):
        (root / d).mkdir()
    for name, gt, other in (("a", "bbaf2n", "lbax4n"), ("b", "brbk7n", "lbbc2a")):
        (root / "gt" / f"{name}.mpg").symlink_to(media / "grid" / f"{gt}.mpg")
        (root / "same" / f"{name}.mpg").symlink_to(media / "grid" / f"{gt}.mpg")
        (root / "other" / f"{name}.mpg").symlink_to(media / "grid" / f"{other}.mpg")
    return {d: root / d for d in ("gt", "same", "other")}
