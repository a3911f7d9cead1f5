"""Face detection passes: full-frame scans (with a scale rule) and region-of-interest scans.

Both detectors are dlib's: the frontal HOG detector (Dalal & Triggs 2005 features, five
linear SVMs; King 2015) and the MMOD CNN detector (King, "Max-Margin Object Detection",
arXiv:1502.00046). Each finds faces whose box is at least about :data:`WINDOW` pixels in
the image it scans, so the frame is rescaled first: shrunk for speed (``max_side``),
enlarged for small faces (``min_face``), shrunk and framed by a border for a face that
fills the frame (a detector needs some context around the face).

Boxes are returned as ``(N, 4)`` float arrays ``x0, y0, x1, y1`` in native frame pixels, in
the HOG detector's box convention (CNN boxes are converted, see :data:`CNN_TO_HOG`).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import models
from .settings import FaceSettings

#: Detector window side, pixels: faces smaller than this in the scanned image are missed
#: (dlib's HOG frontal detector scans an 80×80 window; the MMOD face model's smallest
#: detections measured on GRID frames are of the same size).
WINDOW = 80

#: MMOD CNN box → HOG box convention: ``cx += dx·side, cy += dy·side, side *= scale``.
#: Measured 2026-11-25 on 41 frames of 5 GRID and 6 VoxCeleb2 clips where both detectors
#: found one face at native scale: dx −0.022 ± 0.072, dy 0.064 ± 0.075, scale 1.127 ± 0.105
#: (mean ± std; dx taken as 0). The 68-point predictor was trained on HOG boxes, so CNN
#: boxes are converted before landmarks are fitted.
CNN_TO_HOG = (0.0, 0.064, 1.127)

BORDER = 127  # grey of the border added around a frame (a constant border has no gradients)


def _resize(img: np.ndarray, s: float) -> np.ndarray:
    if abs(s - 1.0) < 1e-9:
        return img
    h, w = img.shape[:2]
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def run_detector(detector: str, img: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Detect faces in ``img`` (H×W×3 uint8 RGB) at its own scale, no upsampling.

    Returns ``boxes`` (N, 4) float64 in ``img`` pixels (HOG convention) and ``scores`` (N,)
    (HOG: SVM margin, detections down to ``threshold`` kept; CNN: confidence, the model's
    own positive detections).
    """
    img = np.ascontiguousarray(img)
    if detector == "hog":
        rects, scores, _ = models.hog_detector().run(img, 0, float(threshold))
        boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in rects]
        return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64)
    dets = models.cnn_detector()(img, 0)
    boxes = np.asarray([(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()) for d in dets],
                       np.float64).reshape(-1, 4)
    return cnn_to_hog(boxes), np.asarray([d.confidence for d in dets], np.float64)


def cnn_to_hog(boxes: np.ndarray) -> np.ndarray:
    """Convert MMOD CNN boxes (N, 4) to the HOG detector's convention (:data:`CNN_TO_HOG`)."""
    dx, dy, k = CNN_TO_HOG
    side = (boxes[:, 2] - boxes[:, 0] + boxes[:, 3] - boxes[:, 1]) / 2
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + dx * side
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + dy * side
    half = k * side / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


def scan(frame: np.ndarray, scale: float, settings: FaceSettings, threshold: float,
         pad: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Detect on the frame rescaled by ``scale`` and framed by a border of ``pad`` × its side.

    Returns boxes (N, 4) in native pixels and scores (N,).
    """
    img = _resize(frame, scale)
    p = int(round(pad * max(img.shape[:2])))
    if p:
        img = cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=(BORDER,) * 3)
    boxes, scores = run_detector(settings.detector, img, threshold)
    h, w = frame.shape[:2]
    sx = round(w * scale) / w if scale != 1 else 1.0
    sy = round(h * scale) / h if scale != 1 else 1.0
    boxes = (boxes - p) / np.array([sx, sy, sx, sy])
    return boxes, scores


def base_scale(frame_size: tuple[int, int], settings: FaceSettings) -> float:
    """Scale of a full-frame scan: the longer side shrunk to ``max_side`` (never enlarged)."""
    return min(1.0, settings.max_side / max(frame_size))


def fallback_scales(frame_size: tuple[int, int], settings: FaceSettings) -> list[tuple[float, float]]:
    """``(scale, pad)`` of the extra scans of a keyframe where nothing was found: first a
    shrunk, bordered frame (a face filling it), then the frame enlarged ×2 per step until a
    ``min_face`` face reaches the detector window (within ``max_pixels``)."""
    w, h = frame_size
    s0 = base_scale(frame_size, settings)
    out = []
    big = min(s0, 2.0 * WINDOW / min(w, h))
    out.append((big, settings.pad))
    s = s0 * 2
    while WINDOW / (s / 2) > settings.min_face and w * h * s * s <= settings.max_pixels:
        out.append((s, 0.0))
        s *= 2
    return out


def full_scan(frame: np.ndarray, settings: FaceSettings, search: bool) -> tuple[np.ndarray, np.ndarray]:
    """All faces of a frame scoring at least ``track_threshold``: boxes (N, 4), scores (N,).

    ``search``: no face is being tracked, so if no face reaches ``start_threshold`` at the
    base scale, the fallback scans run too (first one that finds a confident face wins).
    """
    size = (frame.shape[1], frame.shape[0])
    boxes, scores = scan(frame, base_scale(size, settings), settings, settings.track_threshold)
    if not search or (scores >= settings.start_threshold).any():
        return boxes, scores
    for s, pad in fallback_scales(size, settings):
        b, sc = scan(frame, s, settings, settings.track_threshold, pad)
        if (sc >= settings.start_threshold).any():
            return b, sc
    return boxes, scores


def roi_scan(frame: np.ndarray, box: np.ndarray, settings: FaceSettings) -> tuple[np.ndarray, np.ndarray]:
    """Faces near ``box`` (native x0, y0, x1, y1): the region ``roi_margin`` × side around it,
    scaled so the box is ``roi_face`` pixels, outside of the frame filled with grey."""
    h, w = frame.shape[:2]
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = side * (0.5 + settings.roi_margin)
    x0, y0 = int(np.floor(cx - half)), int(np.floor(cy - half))
    x1, y1 = int(np.ceil(cx + half)), int(np.ceil(cy + half))
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return np.zeros((0, 4)), np.zeros(0)
    s = roi_scale(side, settings)
    crop = frame[cy0:cy1, cx0:cx1]
    ow, oh = max(1, round((cx1 - cx0) * s)), max(1, round((cy1 - cy0) * s))
    img = cv2.resize(crop, (ow, oh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    sx, sy = ow / (cx1 - cx0), oh / (cy1 - cy0)
    pl, pt = round((cx0 - x0) * sx), round((cy0 - y0) * sy)
    pr, pb = round((x1 - cx1) * sx), round((y1 - cy1) * sy)
    if pl or pt or pr or pb:
        img = cv2.copyMakeBorder(img, pt, pb, pl, pr, cv2.BORDER_CONSTANT, value=(BORDER,) * 3)
    boxes, scores = run_detector(settings.detector, img, settings.track_threshold)
    boxes = (boxes - np.array([pl, pt, pl, pt])) / np.array([sx, sy, sx, sy]) + np.array([cx0, cy0, cx0, cy0])
    return boxes, scores


def roi_scale(side: float, settings: FaceSettings) -> float:
    """Scale of a region-of-interest scan: the face box becomes ``roi_face`` pixels."""
    return settings.roi_face / side


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``a`` (N, 4) and ``b`` (M, 4): (N, M) in 0–1."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
