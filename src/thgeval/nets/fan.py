"""FAN 2D facial landmarks: face_alignment's 2DFAN-4 network, its crop and its heatmap decoding.

Reference: A. Bulat, G. Tzimiropoulos, "How far are we from solving the 2D & 3D Face Alignment
problem?", ICCV 2017; code 1adrianb/face-alignment (pip ``face-alignment``): the network as
``FAN(4)`` of 1.2.0 ``models/fan.py`` (stacked hourglasses of ``ConvBlock`` bottlenecks, 68
heatmaps at 64×64 from each stack, the last one used), the landmark pipeline of
``FaceAlignment.get_landmarks_from_image`` (1.2.0 to 1.4.x, identical arithmetic):

- box → ``center = box centre`` moved up by 0.12 × box height, ``scale = (w + h) / 195``
  (``reference_scale`` of its SFD and dlib detectors);
- ``utils.crop``: the square of side ``200·scale`` around the centre, corners rounded by
  ``transform(..., invert=True).int()``, zero padded, ``cv2.resize`` to 256 (bilinear), /255;
- with ``flip_input`` the heatmaps of the mirrored crop, mirrored back with the 68 points'
  left/right pairs swapped, are *added*;
- ``utils.get_preds_fromhm``: argmax per heatmap, ±0.25 towards the larger neighbour on
  each axis (interior maxima only), −0.5, mapped back with the inverse crop transform and
  truncated to int (``transform_np(...).astype(int32)``).

Weights: face_alignment ≥ 1.3 ships TorchScript archives (``2DFAN4-cd938726ad.zip``, loaded
with ``torch.jit.load``); 1.2.0 shipped a plain state dict (``2DFAN4-11f355bf06.pth.tar``).
:func:`read_fan_state` reads both; the parameter names are those of ``FAN(4)`` in either.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ThgevalError
from .state import load_checked, read_state

HEATMAP = 64
INPUT = 256
REFERENCE_SCALE = 195.0
#: face_alignment ``utils.shuffle_lr``: each of the 68 points' mirror image
FLIP_PAIRS = (16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
              27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52,
              51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65)


class Bottleneck(nn.Module):
    """Pre-activation block whose three 3×3 convs (halving, then quartering the width) are
    concatenated, plus a (BN-ReLU-1×1 conv) shortcut when the width changes. Attribute names
    follow the released files (``bn1..3``, ``conv1..3``, ``downsample.0/.2``)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        half, quarter = cout // 2, cout // 4
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, half, 3, 1, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(half), nn.Conv2d(half, quarter, 3, 1, 1, bias=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(quarter), nn.Conv2d(quarter, quarter, 3, 1, 1, bias=False)
        self.downsample = (nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(True), nn.Conv2d(cin, cout, 1, bias=False))
                           if cin != cout else None)

    def forward(self, x):
        a = self.conv1(F.relu(self.bn1(x)))
        b = self.conv2(F.relu(self.bn2(a)))
        c = self.conv3(F.relu(self.bn3(b)))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.cat((a, b, c), 1) + skip


class Hourglass(nn.Module):
    """Recursive hourglass of depth 4 on 256 channels: at each level a full-resolution branch
    (``b1_L``) plus a 2×-pooled branch (``b2_L``, the next level or ``b2_plus_1`` at the
    bottom, then ``b3_L``) upsampled by nearest neighbour."""

    def __init__(self, depth: int = 4, width: int = 256):
        super().__init__()
        self.depth = depth
        for level in range(depth, 0, -1):  # registration order = the released files' key order
            self.add_module(f"b1_{level}", Bottleneck(width, width))
            self.add_module(f"b2_{level}", Bottleneck(width, width))
            if level == 1:
                self.add_module("b2_plus_1", Bottleneck(width, width))
        for level in range(1, depth + 1):
            self.add_module(f"b3_{level}", Bottleneck(width, width))

    def _level(self, level: int, x):
        up = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.avg_pool2d(x, 2, stride=2))
        low = self._level(level - 1, low) if level > 1 else self._modules["b2_plus_1"](low)
        low = self._modules[f"b3_{level}"](low)
        return up + F.interpolate(low, scale_factor=2, mode="nearest")

    def forward(self, x):
        return self._level(self.depth, x)


class FAN(nn.Module):
    """2DFAN-``stacks``: 7×7 stem to 128², blocks to 256 channels at 64², then ``stacks``
    hourglasses each predicting 68 heatmaps, fed back into the next stack
    (``bl``/``al`` 1×1 convs). ``forward`` returns the last stack's (N, 68, 64, 64) heatmaps,
    as the TorchScript release does."""

    def __init__(self, stacks: int = 4):
        super().__init__()
        self.stacks = stacks
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2, self.conv3, self.conv4 = Bottleneck(64, 128), Bottleneck(128, 128), Bottleneck(128, 256)
        for i in range(stacks):
            self.add_module(f"m{i}", Hourglass(4, 256))
            self.add_module(f"top_m_{i}", Bottleneck(256, 256))
            self.add_module(f"conv_last{i}", nn.Conv2d(256, 256, 1))
            self.add_module(f"bn_end{i}", nn.BatchNorm2d(256))
            self.add_module(f"l{i}", nn.Conv2d(256, 68, 1))
            if i < stacks - 1:
                self.add_module(f"bl{i}", nn.Conv2d(256, 256, 1))
                self.add_module(f"al{i}", nn.Conv2d(68, 256, 1))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(self.conv2(x), 2, stride=2)
        prev = self.conv4(self.conv3(x))
        for i in range(self.stacks):
            m = self._modules
            ll = m[f"top_m_{i}"](m[f"m{i}"](prev))
            ll = F.relu(m[f"bn_end{i}"](m[f"conv_last{i}"](ll)))
            out = m[f"l{i}"](ll)
            if i < self.stacks - 1:
                prev = prev + m[f"bl{i}"](ll) + m[f"al{i}"](out)
        return out


def read_fan_state(src) -> dict:
    """FAN parameters from a dict, a TorchScript archive (face_alignment ≥ 1.3's ``.zip``) or a
    ``torch.save`` state dict (1.2.0's ``.pth.tar``); a ``module.`` prefix is dropped."""
    if not isinstance(src, dict) and zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as z:
            scripted = any(n.split("/", 1)[-1].startswith("code/") for n in z.namelist())
        if scripted:
            try:
                src = {k: v.detach().clone() for k, v in torch.jit.load(str(src), map_location="cpu").state_dict().items()}
            except Exception as e:
                raise ThgevalError(f"{src}: not a loadable TorchScript FAN ({type(e).__name__}: {str(e)[:100]})") from None
    state = read_state(src)
    return {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}


def load_fan(src, stacks: int = 4) -> FAN:
    """A FAN in eval mode with the weights of ``src`` (see :func:`read_fan_state`)."""
    net = FAN(stacks)
    load_checked(net, read_fan_state(src), f"a {stacks}-stack FAN (face_alignment 2DFAN-{stacks})")
    return net.eval()


def crop_params(box) -> tuple[np.ndarray, float]:
    """``(center, scale)`` of face_alignment's crop for a box ``x0, y0, x1, y1``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    # float32 like the reference's torch.tensor(center), so corners round the same way
    center = np.array([x1 - (x1 - x0) / 2.0, y1 - (y1 - y0) / 2.0], np.float32)
    center[1] = center[1] - (y1 - y0) * 0.12
    return center, (x1 - x0 + y1 - y0) / REFERENCE_SCALE


def _crop_to_frame(point, center, scale, res):
    """face_alignment ``utils.transform(point, center, scale, res, invert=True).int()``: done
    in float32 torch as there, since the crop corners are truncated to integers."""
    h = 200.0 * scale
    t = torch.eye(3)
    t[0, 0] = res / h
    t[1, 1] = res / h
    t[0, 2] = res * (-float(center[0]) / h + 0.5)
    t[1, 2] = res * (-float(center[1]) / h + 0.5)
    p = torch.ones(3)
    p[0], p[1] = float(point[0]), float(point[1])
    return (torch.inverse(t) @ p)[:2].int().numpy()


def crop(image: np.ndarray, center, scale: float, res: int = INPUT) -> np.ndarray:
    """face_alignment ``utils.crop``: the face square, zero padded where it leaves the image,
    resized to ``res``² with OpenCV bilinear. ``image`` (H, W, 3) uint8 RGB."""
    import cv2

    ul = _crop_to_frame([1, 1], center, scale, res)
    br = _crop_to_frame([res, res], center, scale, res)
    ht, wd = image.shape[:2]
    out = np.zeros((br[1] - ul[1], br[0] - ul[0], image.shape[2]), np.uint8)
    nx = (max(1, -ul[0] + 1), min(br[0], wd) - ul[0])
    ny = (max(1, -ul[1] + 1), min(br[1], ht) - ul[1])
    ox = (max(1, ul[0] + 1), min(br[0], wd))
    oy = (max(1, ul[1] + 1), min(br[1], ht))
    out[ny[0] - 1:ny[1], nx[0] - 1:nx[1]] = image[oy[0] - 1:oy[1], ox[0] - 1:ox[1]]
    return cv2.resize(out, (res, res), interpolation=cv2.INTER_LINEAR)


def decode(heatmaps: np.ndarray, center, scale: float) -> np.ndarray:
    """face_alignment ``get_preds_fromhm`` for one face: (68, 64, 64) → (68, 2) frame pixels
    (integers, as the reference truncates them)."""
    c, hh, ww = heatmaps.shape
    idx = heatmaps.reshape(c, -1).argmax(-1)
    px, py = idx % ww, idx // ww
    pts = np.stack([px, py], -1).astype(np.float32) + 1  # the reference's 1-based cells
    inner = (px > 0) & (px < hh - 1) & (py > 0) & (py < hh - 1)
    for j in np.flatnonzero(inner):
        hm, x, y = heatmaps[j], px[j], py[j]
        diff = np.array([hm[y, x + 1] - hm[y, x - 1], hm[y + 1, x] - hm[y - 1, x]], np.float32)
        pts[j] += np.sign(diff) * np.float32(0.25)
    pts -= np.float32(0.5)
    # transform_np(invert=True): pinv of the crop matrix in float64, then astype(int32)
    h = 200.0 * scale
    t = np.eye(3)
    t[0, 0] = t[1, 1] = hh / h
    t[0, 2] = hh * (-float(center[0]) / h + 0.5)
    t[1, 2] = hh * (-float(center[1]) / h + 0.5)
    tinv = np.linalg.pinv(t)
    homo = np.c_[pts.astype(np.float64), np.ones(c)]
    return np.stack([(tinv @ p)[:2] for p in homo]).astype(np.int32)


@torch.no_grad()
def fan_landmarks(net: FAN, frames: np.ndarray, boxes: np.ndarray, *, flip: bool = True,
                  batch: int = 8) -> np.ndarray:
    """68 FAN landmarks per frame inside given face boxes, as ``FaceAlignment(TWO_D,
    flip_input=flip).get_landmarks(frame, detected_faces=[box])[0]`` computes them.

    frames : (T, H, W, 3) uint8 RGB; boxes : (T, 4) ``x0, y0, x1, y1`` (rows with NaN give
    NaN landmarks). Returns (T, 68, 2) float64 (integer-valued pixel coordinates).
    """
    out = np.full((len(frames), 68, 2), np.nan)
    todo = [t for t in range(len(frames)) if np.isfinite(boxes[t]).all()]
    pairs = list(FLIP_PAIRS)
    for s in range(0, len(todo), batch):
        ts = todo[s:s + batch]
        params = [crop_params(boxes[t]) for t in ts]
        crops = np.stack([crop(frames[t], c, sc) for t, (c, sc) in zip(ts, params)])
        inp = torch.from_numpy(crops.transpose(0, 3, 1, 2).copy()).float() / 255.0
        hm = net(inp)
        if flip:
            # mirrored crop, heatmaps mirrored back with left/right points swapped, then summed
            hm = hm + net(inp.flip(3))[:, pairs].flip(3)
        hm = hm.numpy()
        for k, (t, (c, sc)) in enumerate(zip(ts, params)):
            out[t] = decode(hm[k], c, sc)
    return out
