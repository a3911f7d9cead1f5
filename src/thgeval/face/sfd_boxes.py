"""Face boxes as face_alignment's default detector finds them (``face_detector='sfd'``).

``FaceAlignment.get_landmarks(frame)`` without ``detected_faces`` runs its SFD detector on the
whole RGB frame and fits FAN in every box it returns; the references that call it
(ViCo's ``compute_lmd.py``, pose-evaluation's ``extract.py``) keep the first face. This module
reproduces that detection (face_alignment 1.3.x ``detection/sfd``: ``detect`` /
``batch_detect`` / ``get_predictions``, ``bbox.nms`` / ``decode`` and
``SFDDetector._filter_bboxes``):

- the RGB frame as float32, channels reversed to BGR, minus [104, 117, 123]; no resizing;
- :class:`~thgeval.nets.fa_s3fd.FAS3FD`; softmax face probability per anchor;
- candidates: every anchor whose probability exceeds 0.05, source by source (strides 4 … 128)
  and within a source row by row; the anchor of cell (h, w) is centred at
  (stride/2 + w·stride, stride/2 + h·stride) in pixels, side 4·stride; offsets decoded with
  variances 0.1 / 0.2 (the product of the float32 offset and the variance taken in float32,
  the rest in float64, as the reference's numpy arithmetic);
- greedy NMS at IoU 0.3 with the "+1" pixel areas, candidates in ``argsort()[::-1]`` order
  of the scores (numpy's default sort, so ties fall as the reference's do), then only boxes
  scoring above 0.5 are kept, best first.

Boxes scoring ≤ 0.5 never suppress better ones in a greedy NMS, so the NMS loop stops at the
first score ≤ 0.5 in that order: the result is the reference's, in the same order.

face_alignment 1.0.0 (the version pose-evaluation pins as a submodule) runs the same steps but
decodes in float32 torch arithmetic (boxes equal to float32 rounding, ~1e-5 px).
"""

from __future__ import annotations

import numpy as np
import torch

from ..nets.fa_s3fd import STRIDES, FAS3FD, load_fa_s3fd

BGR_MEAN = np.array([104.0, 117.0, 123.0], np.float32)
CANDIDATE_TH = 0.05
NMS_TH = 0.3
FILTER_TH = 0.5
VARIANCES = (0.1, 0.2)
WEIGHTS = "s3fd-fa"  # weights registry entry: face_alignment's s3fd-619a316812.pth


def network_input(frame_rgb: np.ndarray) -> torch.Tensor:
    """(1, 3, H, W) float32: the frame's channels in BGR order minus face_alignment's means."""
    x = np.ascontiguousarray(frame_rgb[..., ::-1].transpose(2, 0, 1), np.float32)
    return torch.from_numpy(x - BGR_MEAN[:, None, None])[None]


def candidates(outputs) -> np.ndarray:
    """(K, 5) float64 ``x0, y0, x1, y1, score`` of every anchor scoring above 0.05, in the
    reference's order (source by source, row-major), from ``FAS3FD`` outputs of one image."""
    rows = []
    for (prob, loc), stride in zip(outputs, STRIDES):
        p = prob[0].cpu().numpy()
        hh, ww = np.nonzero(p > CANDIDATE_TH)
        if not len(hh):
            continue
        off = loc[0].cpu().numpy()[:, hh, ww].T  # (k, 4) float32
        c = np.stack([stride / 2 + ww * stride, stride / 2 + hh * stride], 1).astype(np.float64)
        side = np.float64(stride * 4)  # the prior's size, a float64 array element there
        xy = c + (off[:, :2] * np.float32(VARIANCES[0])) * side
        wh = side * np.exp(off[:, 2:] * np.float32(VARIANCES[1]))
        x0y0 = xy - wh / 2
        rows.append(np.concatenate([x0y0, wh + x0y0, p[hh, ww, None].astype(np.float64)], 1))
    return np.concatenate(rows) if rows else np.zeros((0, 5))


def filter_boxes(dets: np.ndarray, nms_th: float = NMS_TH, keep_th: float = FILTER_TH) -> np.ndarray:
    """Greedy NMS over ``dets`` (rows ``x0, y0, x1, y1, score``) and the score filter,
    best first (face_alignment's ``nms(dets, 0.3)`` then ``score > 0.5``)."""
    if not len(dets):
        return dets.reshape(0, 5)
    x0, y0, x1, y1, s = dets.T
    areas = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = s.argsort()[::-1]
    order = order[s[order] > keep_th]  # a prefix: lower scores never suppress these
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= nms_th]
    return dets[np.asarray(keep, np.int64)]


def detect(net: FAS3FD, frame_rgb: np.ndarray) -> np.ndarray:
    """(K, 5) float64 face boxes ``x0, y0, x1, y1, score`` of one RGB uint8 frame, best first
    (what ``SFDDetector.detect_from_image`` returns); K may be 0."""
    dev = next(net.parameters()).device
    with torch.no_grad():
        out = net(network_input(frame_rgb).to(dev))
    return filter_boxes(candidates(out))


def first_boxes(net: FAS3FD, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame the box of the first face ``detect`` returns (the highest-scoring one, which
    ``get_landmarks(frame)[0]`` fits): (T, 4) float64, NaN where no face was found, and the
    (T,) count of faces found."""
    boxes = np.full((len(frames), 4), np.nan)
    counts = np.zeros(len(frames), np.int64)
    for t, f in enumerate(frames):
        d = detect(net, f)
        counts[t] = len(d)
        if len(d):
            boxes[t] = d[0, :4]
    return boxes, counts


_NETS: dict = {}


def sfd_net() -> FAS3FD:
    """The registered weights' network, loaded once per process (a metric skip naming
    ``thgeval weights fetch s3fd-fa`` when the file is absent)."""
    from ..weights import locate

    path = locate(WEIGHTS)
    if _NETS.get("path") != path:
        _NETS.update(path=path, net=load_fa_s3fd(path))
    return _NETS["net"]
