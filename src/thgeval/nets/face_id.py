"""Identity embeddings of whole frames with PyTorch ArcFace networks, preprocessed as the CSIM
code of two talking-head papers does it (the backends of ``csim@bilayer`` and ``csim@vico``).

- ``irse50`` (saic-violet/bilayer-model ``losses/csim.py``): frames as ``ToTensor`` RGB, then
  ``(x − 0.5) · 2``; five points from the *GT* frame's 68 landmarks (eye centres 36–41 and
  42–47, nose tip 30, mouth corners 48 and 54), a similarity (scikit-image
  ``estimate_transform('similarity', template, points)``, Umeyama least squares) from
  bilayer's 112×112 template to the frame, rewritten for ``F.affine_grid`` and sampled with
  ``F.grid_sample`` (bilinear, zero border, ``align_corners=False``) into 112×112; the same
  transform crops the GT and the generated frame; IR-SE-50 (:mod:`thgeval.nets.irse`).
- ``iresnet100`` (dc3ea9f/vico_challenge_baseline ``evaluations/arcface_torch/compute_csim.py``):
  the whole frame ``cv2.resize``d to 112×112 (bilinear, on uint8), RGB, ``x / 255 − 0.5) / 0.5``,
  no detection; IResNet-100 (:mod:`thgeval.nets.iresnet`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..face.align import FIVE_POINTS, umeyama

SIZE = 112
BATCH = 32

#: bilayer-model's ``find_affine_transformation`` template (``src``), 112×112 pixels. Its x
#: coordinates differ from insightface's ``arcface_dst`` (38.29, 73.53, …): a wider crop.
BILAYER_112 = np.array([[35.343697, 51.6963], [76.453766, 51.5014], [56.029396, 71.7366],
                        [39.14085, 92.3655], [73.18488, 92.2041]], np.float32)

#: backend → (weights entry, network constructor, crop)
BACKENDS = {
    "irse50": ("arcface-irse50-treb1en", "irse", "gt-landmarks"),
    "iresnet100": ("arcface-r100-ms1mv3", "iresnet", "whole-frame"),
}


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(N, 68, 2) landmarks → (N, 5, 2) float32 points as bilayer takes them (float32 means)."""
    lm = np.asarray(landmarks, np.float32)
    return np.stack([lm[:, list(g)].mean(1) for g in FIVE_POINTS], 1)


def bilayer_thetas(landmarks: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, 2, 3) ``affine_grid`` matrices mapping the 112×112 crop onto each frame.

    bilayer's keypoints are pixel coordinates divided by the image side, so the similarity maps
    template pixels to frame pixels; it is then rewritten for the [−1, 1] grid: template
    coordinate u = (x_grid + 1)·56, frame coordinate X_grid = 2·X / side − 1. (bilayer scales x
    by the height and y by the width, the same on its square frames; here x by the width.)
    """
    out = np.empty((len(landmarks), 2, 3), np.float64)
    for i, pts in enumerate(five_points(landmarks)):
        a = umeyama(BILAYER_112.astype(np.float64), pts.astype(np.float64))
        for r, side in ((0, width), (1, height)):
            s0, s1 = a[r, 0] * SIZE / side, a[r, 1] * SIZE / side
            out[i, r] = (s0, s1, a[r, 2] * 2 / side + s0 + s1 - 1)
    return out


def bilayer_input(frames: np.ndarray, thetas: np.ndarray) -> torch.Tensor:
    """N×H×W×3 uint8 RGB frames → N×3×112×112 float32 crops in [−1, 1] (zero outside the frame)."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(255)
    x = (x - 0.5) * 2.0
    theta = torch.from_numpy(thetas.astype(np.float32))
    grid = F.affine_grid(theta, [len(x), 3, SIZE, SIZE], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def vico_input(frames: np.ndarray) -> torch.Tensor:
    """N×H×W×3 uint8 RGB frames → N×3×112×112 float32 in [−1, 1], the whole frame resized."""
    small = np.stack([cv2.resize(np.ascontiguousarray(f), (SIZE, SIZE)) for f in frames])
    x = torch.from_numpy(small.transpose(0, 3, 1, 2).copy()).float()
    return x.div_(255).sub_(0.5).div_(0.5)


@lru_cache(maxsize=2)
def _network(kind: str, path: str, stamp: tuple, device: str):
    if kind == "irse":
        from .irse import IRSE

        return IRSE(50, weights=path).to(device)
    from .iresnet import IResNet

    return IResNet("r100", weights=path).to(device)


def network(backend: str, device: str = "cpu"):
    """The backend's network with its weights file (WeightsMissing, a skip, when absent)."""
    from ..weights import locate

    name, kind, _ = BACKENDS[backend]
    p = Path(locate(name))
    return _network(kind, str(p), (p.stat().st_size, p.stat().st_mtime_ns), device)


@torch.no_grad()
def embed(net, x: torch.Tensor, device: str = "cpu") -> np.ndarray:
    """(N, 512) float32 embeddings of a preprocessed batch, BATCH at a time."""
    out = [net(x[a:a + BATCH].to(device)).float().cpu() for a in range(0, len(x), BATCH)]
    return torch.cat(out).numpy() if out else np.zeros((0, 512), np.float32)


def frame_embeddings(backend: str, frames: np.ndarray, idx: np.ndarray, gt_landmarks: np.ndarray | None = None,
                     *, net=None, device: str = "cpu") -> np.ndarray:
    """(len(idx), 512) embeddings of ``frames[idx]`` (T×H×W×3 uint8 RGB) preprocessed as
    ``backend``'s reference does; ``gt_landmarks`` (len(idx), 68, 2): the GT frames' landmarks
    whose transform crops these frames (``irse50``)."""
    net = net if net is not None else network(backend, device)
    idx = np.asarray(idx, int)
    out = np.zeros((len(idx), 512), np.float32)
    thetas = None
    if BACKENDS[backend][2] == "gt-landmarks":
        thetas = bilayer_thetas(gt_landmarks, frames.shape[1], frames.shape[2])
    for a in range(0, len(idx), BATCH):  # preprocess a batch at a time: whole clips of float frames are large
        f = frames[idx[a:a + BATCH]]
        x = vico_input(f) if thetas is None else bilayer_input(f, thetas[a:a + BATCH])
        out[a:a + len(f)] = embed(net, x, device)
    return out


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (N, D) arrays, in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
