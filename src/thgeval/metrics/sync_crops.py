"""SyncNet face crops: the reference pipeline's crop geometry as pure functions.

joonson/syncnet_python ``run_pipeline.py`` (``crop_video``) turns a face track into
224×224 crops: per frame the half box side ``s = max(w, h) / 2`` and the box centre, each
median-filtered over the track (kernel 13, SciPy ``medfilt``: zero-padded at the ends, as
the reference does), then a window from ``s`` above the centre to ``s·(1 + 2·cs)`` below it
and ``s·(1 + cs)`` either side (``cs`` = crop scale, 0.4) — the mouth sits low in the crop —
on the frame padded by ``int(s·(1 + 2·cs))`` pixels of grey 110, resized to 224×224 with
bilinear interpolation.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import MetricSkipped

CROP_SIZE = 224
PAD_VALUE = 110


def fill_boxes(boxes: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """(T, 4) boxes with invalid (NaN) rows filled by linear interpolation, ends held.

    The reference tracker interpolates boxes between detections (``interp1d``) the same way;
    raises :class:`MetricSkipped` when no frame has a face.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    ok = np.all(np.isfinite(b), axis=1)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    if not ok.any():
        raise MetricSkipped("no face found in any frame: SyncNet needs a face crop")
    t = np.arange(len(b))
    for j in range(4):
        b[:, j] = np.interp(t, t[ok], b[ok, j])
    return b


def crop_track(boxes: np.ndarray, median_kernel: int = 13) -> np.ndarray:
    """(T, 3) smoothed ``(s, cx, cy)``: half box side and centre per frame, in pixels.

    ``boxes`` are (T, 4) x0, y0, x1, y1 without NaN (see :func:`fill_boxes`).
    ``median_kernel`` odd; 1 turns smoothing off.
    """
    b = np.asarray(boxes, dtype=np.float64)
    s = np.maximum(b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]) / 2
    cy = (b[:, 1] + b[:, 3]) / 2
    cx = (b[:, 0] + b[:, 2]) / 2
    out = np.stack([s, cx, cy], axis=1)
    if median_kernel > 1:
        from scipy.signal import medfilt  # lazily: scipy.signal is slow to import
        out = np.stack([medfilt(out[:, i], kernel_size=median_kernel) for i in range(3)], axis=1)
    return out


def crop_window(s: float, cx: float, cy: float, crop_scale: float = 0.4) -> tuple[int, int, int, int, int]:
    """``(bsi, y0, y1, x0, x1)``: the pad and the crop rows/columns in padded-frame pixels."""
    bsi = int(s * (1 + 2 * crop_scale))
    my, mx = cy + bsi, cx + bsi
    return (bsi, int(my - s), int(my + s * (1 + 2 * crop_scale)),
            int(mx - s * (1 + crop_scale)), int(mx + s * (1 + crop_scale)))


def _region(frame: np.ndarray, bsi: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """``pad(frame, bsi, 110)[y0:y1, x0:x1]`` without padding the whole frame."""
    h, w = frame.shape[:2]
    ph, pw = h + 2 * bsi, w + 2 * bsi

    def clamp(v, n):  # Python slice semantics on the padded frame (negative from the end)
        v = v + n if v < 0 else v
        return min(max(v, 0), n)

    y0, y1, x0, x1 = clamp(y0, ph), clamp(y1, ph), clamp(x0, pw), clamp(x1, pw)
    out = np.full((max(y1 - y0, 0), max(x1 - x0, 0)) + frame.shape[2:], PAD_VALUE, dtype=frame.dtype)
    sy0, sy1 = max(y0 - bsi, 0), min(y1 - bsi, h)
    sx0, sx1 = max(x0 - bsi, 0), min(x1 - bsi, w)
    if sy1 > sy0 and sx1 > sx0:
        out[sy0 + bsi - y0:sy1 + bsi - y0, sx0 + bsi - x0:sx1 + bsi - x0] = frame[sy0:sy1, sx0:sx1]
    return out


def crop_faces(frames: np.ndarray, track: np.ndarray, crop_scale: float = 0.4,
               size: int = CROP_SIZE, index: np.ndarray | None = None) -> np.ndarray:
    """(N, size, size, 3) crops of ``frames`` along a smoothed ``track`` from :func:`crop_track`.

    ``index`` picks the track row for each frame (default: frame i uses row i), so a track
    of native frames can serve frames resampled to another rate.
    """
    n = len(frames)
    rows = np.arange(n) if index is None else np.asarray(index)
    out = np.empty((n, size, size, frames.shape[-1]), dtype=np.uint8)
    for i in range(n):
        s, cx, cy = track[rows[i]]
        face = _region(frames[i], *crop_window(s, cx, cy, crop_scale))
        if face.size == 0:
            raise MetricSkipped(f"frame {i}: the face box gives an empty crop (box side {2 * s:.1f} px)")
        out[i] = cv2.resize(face, (size, size))  # bilinear, the reference's default
    return out


def whole_frames(frames: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Each whole frame resized to size×size, bilinear (Wav2Lip's ``calculate_scores_LRS.py``)."""
    if frames.shape[1:3] == (size, size):
        return np.ascontiguousarray(frames)
    return np.stack([cv2.resize(f, (size, size)) for f in frames])
