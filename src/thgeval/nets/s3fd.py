"""S3FD face detector (Zhang et al. 2017) as syncnet_python's ``run_pipeline.py`` runs it.

Network: VGG-16 (conv1_1 … conv5_3, then fc6 as a 3×3 convolution dilated by 6 and fc7 as
1×1), two extra stride-2 stages, L2-normalised conv3_3 / conv4_3 / conv5_3 (learned scales
initialised 10 / 8 / 5), and a 3×3 location (4) and confidence head on each of the six
sources. The conv3_3 confidence head predicts 3 background scores and 1 face score and keeps
the maximum background ("max-out background label", paper §3.3). Parameter names are those of
``sfd_face.pth`` (joonson/syncnet_python ``detectors/s3fd/nets.py``, the same layout as
face_alignment's ``sfd``), so the released file loads as is.

Detection (``detectors/s3fd/__init__.py`` ``S3FD.detect_faces`` with ``box_utils.py``):

- the RGB frame resized by ``scale`` (``cv2.resize`` bilinear), minus the BGR means
  [104, 117, 123] taken per channel in BGR order (so the network sees RGB − [123, 117, 104]);
- anchors of side 16 · 2^k on each source with stride 4 · 2^k, centred on the cells of the
  source's actual feature map (size relative to the input, no clipping); offsets decoded with
  variances 0.1 (centre) and 0.2 (log size);
- softmax, scores > 0.05, greedy NMS at IoU 0.3 over the top 5000, at most 750 boxes
  (``Detect``); then boxes above ``conf_th`` in input-image pixels and greedy NMS at IoU 0.1.

References
----------
S. Zhang, X. Zhu, Z. Lei, H. Shi, X. Wang and S. Z. Li, "S3FD: Single Shot Scale-invariant
Face Detector", ICCV 2017.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .state import load_checked

BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
MIN_SIZES = (16, 32, 64, 128, 256, 512)
STEPS = (4, 8, 16, 32, 64, 128)
VARIANCES = (0.1, 0.2)
PRE_CONF, PRE_NMS, PRE_TOP_K, NMS_TOP_K = 0.05, 0.3, 750, 5000  # box_utils.Detect defaults

# VGG-16 trunk: ("c", in, out) 3×3 conv + ReLU, ("p", ceil_mode) 2×2 max pool. Each conv and
# each ReLU/pool takes one index of the reference's ModuleList, so keys are vgg.<index>.
_VGG = [("c", 3, 64), ("c", 64, 64), ("p", False),
        ("c", 64, 128), ("c", 128, 128), ("p", False),
        ("c", 128, 256), ("c", 256, 256), ("c", 256, 256), ("p", True),
        ("c", 256, 512), ("c", 512, 512), ("c", 512, 512), ("p", False),
        ("c", 512, 512), ("c", 512, 512), ("c", 512, 512), ("p", False)]
_SOURCE_CH = (256, 512, 512, 1024, 512, 256)
_L2_SCALES = {"L2Norm3_3": (256, 10.0), "L2Norm4_3": (512, 8.0), "L2Norm5_3": (512, 5.0)}


class L2Norm(nn.Module):
    """Channel-wise L2 normalisation with a learned per-channel scale (ParseNet)."""

    def __init__(self, channels: int, scale: float):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), float(scale)))

    def forward(self, x):
        # eps added to the norm, not under the root, as the released model was trained with
        return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10) * self.weight.view(1, -1, 1, 1)


class S3FDNet(nn.Module):
    """The S3FD network; ``forward`` gives raw outputs: box offsets (N, P, 4), face/background
    softmax (N, P, 2) and the (h, w) of each source's feature map."""

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        self._taps = []  # trunk indices after which conv3_3, conv4_3, conv5_3 are taken
        for spec in _VGG:
            if spec[0] == "c":
                layers += [nn.Conv2d(spec[1], spec[2], 3, 1, padding=1), nn.ReLU()]
            else:
                if len(self._taps) < 3 and len(layers) >= 15:
                    self._taps.append(len(layers))
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=spec[1]))
        # pool5 stays 2×2/2 (the reference keeps VGG's pool5), then fc6 (dilated) and fc7
        layers += [nn.Conv2d(512, 1024, 3, 1, padding=6, dilation=6), nn.ReLU(), nn.Conv2d(1024, 1024, 1, 1), nn.ReLU()]
        self.vgg = nn.ModuleList(layers)
        for name, (ch, scale) in _L2_SCALES.items():
            setattr(self, name, L2Norm(ch, scale))
        self.extras = nn.ModuleList([nn.Conv2d(1024, 256, 1, 1), nn.Conv2d(256, 512, 3, 2, padding=1),
                                     nn.Conv2d(512, 128, 1, 1), nn.Conv2d(128, 256, 3, 2, padding=1)])
        self.loc = nn.ModuleList([nn.Conv2d(c, 4, 3, 1, padding=1) for c in _SOURCE_CH])
        # conv3_3: 3 background + 1 face score (max-out background), the others 2 scores
        self.conf = nn.ModuleList([nn.Conv2d(c, 4 if i == 0 else 2, 3, 1, padding=1)
                                   for i, c in enumerate(_SOURCE_CH)])

    def sources(self, x) -> list:
        out = []
        norms = (self.L2Norm3_3, self.L2Norm4_3, self.L2Norm5_3)
        for k, layer in enumerate(self.vgg):
            if k in self._taps:  # before the pool that follows conv3_3 / conv4_3 / conv5_3
                out.append(norms[self._taps.index(k)](x))
            x = layer(x)
        out.append(x)  # fc7
        for k, layer in enumerate(self.extras):
            x = F.relu(layer(x))
            if k % 2 == 1:
                out.append(x)
        return out

    def forward(self, x):
        locs, confs, shapes = [], [], []
        for i, s in enumerate(self.sources(x)):
            c = self.conf[i](s)
            if i == 0:
                c = torch.cat([c[:, :3].amax(dim=1, keepdim=True), c[:, 3:]], dim=1)
            locs.append(self.loc[i](s).permute(0, 2, 3, 1).reshape(len(x), -1, 4))
            confs.append(c.permute(0, 2, 3, 1).reshape(len(x), -1, 2))
            shapes.append(tuple(s.shape[2:]))
        return torch.cat(locs, 1), torch.softmax(torch.cat(confs, 1), dim=-1), shapes


def priors(image_hw: tuple[int, int], shapes: list) -> np.ndarray:
    """(P, 4) float32 anchors ``cx, cy, w, h`` relative to the input image (``PriorBox``)."""
    imh, imw = image_hw
    rows = []
    for (fh, fw), size, step in zip(shapes, MIN_SIZES, STEPS):
        i, j = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        # float64 arithmetic as the reference's Python floats, then float32 as its FloatTensor
        cx = (j.ravel() + 0.5) / (imw / step)
        cy = (i.ravel() + 0.5) / (imh / step)
        rows.append(np.stack([cx, cy, np.full(cx.shape, size / imw), np.full(cx.shape, size / imh)], 1))
    return np.concatenate(rows).astype(np.float32)


def decode(loc: np.ndarray, pri: np.ndarray, variances=VARIANCES) -> np.ndarray:
    """(P, 4) float32 ``x0, y0, x1, y1`` (relative) from offsets and anchors (SSD encoding)."""
    v0, v1 = np.float32(variances[0]), np.float32(variances[1])
    c = pri[:, :2] + loc[:, :2] * v0 * pri[:, 2:]
    wh = pri[:, 2:] * np.exp(loc[:, 2:] * v1)
    x0y0 = c - wh / np.float32(2)
    return np.concatenate([x0y0, wh + x0y0], 1)


def _iou_one(box, boxes, area, areas):
    w = np.maximum(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0)
    h = np.maximum(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0)
    inter = w * h
    return inter / ((areas - inter) + area)


def nms(boxes: np.ndarray, scores: np.ndarray, overlap: float, top_k: int | None = None) -> np.ndarray:
    """Greedy NMS: indices kept, best first; a box goes when its IoU with a kept one exceeds
    ``overlap``. ``top_k`` limits the candidates to the best ``top_k`` scores first."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(scores, kind="stable")[::-1]
    if top_k is not None:
        order = order[:top_k]
    keep = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        order = rest[_iou_one(boxes[i], boxes[rest], areas[i], areas[rest]) <= overlap]
    return np.asarray(keep, dtype=np.int64)


class S3FD:
    """S3FD with ``sfd_face.pth`` weights; :meth:`detect` is ``S3FD.detect_faces``."""

    def __init__(self, weights, device: str = "cpu"):
        self.net = S3FDNet()
        load_checked(self.net, weights if isinstance(weights, dict) else Path(weights), "an S3FD state dict (sfd_face.pth)")
        self.net.eval().to(device)
        self.device = device

    def raw(self, image_rgb: np.ndarray, scale: float = 1.0):
        """Network input and raw outputs for one RGB uint8 frame: (x, loc, conf, shapes)."""
        img = image_rgb if scale == 1 else cv2.resize(image_rgb, (0, 0), fx=scale, fy=scale,
                                                      interpolation=cv2.INTER_LINEAR)
        x = img.astype(np.float32) - BGR_MEAN[::-1]  # BGR means applied to an RGB frame, as the reference
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].to(self.device)
        with torch.no_grad():
            loc, conf, shapes = self.net(t)
        return t, loc[0].cpu().numpy(), conf[0].cpu().numpy(), shapes

    def detect(self, image_rgb: np.ndarray, conf_th: float = 0.8, scale: float = 1.0,
               nms_th: float = 0.1) -> np.ndarray:
        """(K, 5) float64 ``x0, y0, x1, y1, score`` in ``image_rgb`` pixels, best first."""
        h, w = image_rgb.shape[:2]
        t, loc, conf, shapes = self.raw(image_rgb, scale)
        boxes = decode(loc, priors(tuple(t.shape[2:]), shapes))
        score = conf[:, 1]
        cand = np.flatnonzero(score > PRE_CONF)
        kept = cand[nms(boxes[cand], score[cand], PRE_NMS, NMS_TOP_K)][:PRE_TOP_K]
        kept = kept[score[kept] > conf_th]  # already best first
        px = boxes[kept] * np.array([w, h, w, h], dtype=np.float32)
        dets = np.concatenate([px.astype(np.float64), score[kept, None].astype(np.float64)], 1)
        if not len(dets):
            return dets.reshape(0, 5)
        return dets[nms(dets[:, :4], dets[:, 4], nms_th)]
