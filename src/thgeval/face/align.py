"""Face alignment: per-frame transforms from a face track to a canonical crop, and warping.

Two modes, both returning ``(T, 2, 3)`` float64 affine matrices that map native frame
pixels ``(x, y, 1)`` to pixels of a ``size × size`` crop:

- :func:`similarity_transforms`: a similarity (scale, rotation, translation) fitting five
  points derived from the 68 landmarks (eye centres, nose tip, mouth corners) to a
  canonical template by least squares (Umeyama 1991), its parameters smoothed over time.
- :func:`box_transforms`: the SyncNet crop (Chung & Zisserman 2016, ``syncnet_python``
  ``run_pipeline.py``): the face box's centre and half-side median-filtered over time, a
  square of half-side ``s·(1 + scale)`` centred ``s·scale`` below the box centre (chin and
  mouth kept), no rotation.

Frames without a valid face take the transform interpolated from their neighbours (held at
the ends of the clip); a track without any valid frame raises :class:`NoFaceError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import correlate1d, median_filter

from ..errors import ThgevalError
from .track import FaceTrack


class NoFaceError(ThgevalError):
    """A clip has no frame with a valid face, so it cannot be aligned."""


#: The ArcFace five-point template, pixels of a 112×112 crop: left eye centre, right eye
#: centre, nose tip, left and right mouth corner (image left/right). Source: Deng et al.,
#: "ArcFace: Additive Angular Margin Loss for Deep Face Recognition", CVPR 2019, as used by
#: the InsightFace alignment of its recognition models.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]])

#: Framing of the default ``"face"`` template: the ArcFace points (unit square) zoomed by
#: ``FRAMING_ZOOM`` about ``(0.5, FRAMING_CENTER_Y)``. Chosen so a frontal face, brows to
#: chin, spans about 26–88 % of the crop's height and the jaw 20–80 % of its width (median
#: dlib landmarks of GRID frames fitted to the ArcFace points: brows at 0.33, chin at 1.07,
#: jaw 0.15–0.85 of the 112 crop) — a portrait crop with the whole face, like FFHQ's.
FRAMING_ZOOM = 0.85
FRAMING_CENTER_Y = 0.62

# dlib 68-point indices whose mean gives each template point
FIVE_POINTS = (tuple(range(36, 42)), tuple(range(42, 48)), (30,), (48,), (54,))


@dataclass(frozen=True)
class Template:
    """Canonical positions (unit square, x right, y down) of points taken from 68 landmarks."""

    name: str
    points: np.ndarray  # (K, 2) in 0–1 of the crop side
    groups: tuple  # K tuples of dlib 68-point indices, averaged
    source: str

    def from_landmarks(self, landmarks: np.ndarray) -> np.ndarray:
        """(…, 68, 2) landmarks → (…, K, 2) template points."""
        return np.stack([landmarks[..., list(g), :].mean(-2) for g in self.groups], axis=-2)


TEMPLATES = {
    "face": Template(
        "face", 0.5 + FRAMING_ZOOM * (ARCFACE_112 / 112 - np.array([0.5, FRAMING_CENTER_Y])), FIVE_POINTS,
        "ArcFace 5-point template (Deng et al. 2019) reframed to show the whole face (see FRAMING_ZOOM)",
    ),
    "arcface": Template(
        "arcface", ARCFACE_112 / 112, FIVE_POINTS,
        "ArcFace 5-point template (Deng et al. 2019): the tight crop of face recognition models",
    ),
}


def _template(template) -> Template:
    if isinstance(template, Template):
        return template
    if template not in TEMPLATES:
        raise ThgevalError(f"unknown face template {template!r}; known: {', '.join(TEMPLATES)}")
    return TEMPLATES[template]


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (2, 3) mapping points ``src`` (K, 2) onto ``dst`` (K, 2)
    (Umeyama, IEEE TPAMI 13(4), 1991; reflections excluded)."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    u, sv, vt = np.linalg.svd(d0.T @ s0 / len(src))
    d = np.array([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ np.diag(d) @ vt
    scale = (sv * d).sum() / max((s0 ** 2).sum() / len(src), 1e-12)
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - scale * rot @ ms
    return m


def _fill(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Linear interpolation of (T, P) ``values`` across frames where ``known`` is False."""
    t = np.arange(len(values))
    idx = np.flatnonzero(known)
    return np.stack([np.interp(t, idx, values[idx, j]) for j in range(values.shape[1])], axis=1)


def _smooth(params: np.ndarray, known: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth (T, P) parameters over time by Gaussian-weighted local linear regression on
    the known frames (a straight-line motion is kept exactly, at the clip's ends and across
    gaps too); frames with no known frame within 4σ are interpolated."""
    if sigma <= 0:
        return _fill(params, known)
    r = max(1, int(np.ceil(4 * sigma)))
    u = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * (u / sigma) ** 2)
    w = known.astype(np.float64)
    y = np.where(known[:, None], params, 0.0)

    def corr(x, k):  # Σ_u k(u) x(t + u), zero outside the clip
        return correlate1d(x, k, axis=0, mode="constant")

    s0, s1, s2 = corr(w, g), corr(w, g * u), corr(w, g * u * u)
    y0, y1 = corr(y, g), corr(y, (g * u)[:, None].ravel())
    det = s0 * s2 - s1 * s1
    line = det > 1e-9 * np.maximum(s0 * s2, 1e-300)
    ok = s0 > 1e-12
    a = np.where(line[:, None], (s2[:, None] * y0 - s1[:, None] * y1) / np.where(line, det, 1)[:, None],
                 y0 / np.where(ok, s0, 1)[:, None])
    return _fill(a, ok)


def _matrices(scale, angle, cx, cy, size) -> np.ndarray:
    """(T, 2, 3) transforms: rotate by ``angle`` and scale about the source point (cx, cy),
    which lands on the crop's centre."""
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    m = np.zeros((len(scale), 2, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    m[:, 0, 2] = size / 2 - (c * cx - s * cy)
    m[:, 1, 2] = size / 2 - (s * cx + c * cy)
    return m


def similarity_transforms(track: FaceTrack, size: int = 256, template="face", smooth: float = 2.0) -> np.ndarray:
    """Per-frame similarity transforms of a track's face onto a canonical template.

    Parameters
    ----------
    track : the clip's :class:`FaceTrack`.
    size : side of the output crop, pixels.
    template : a :class:`Template` or a name in :data:`TEMPLATES` (default ``"face"``).
    smooth : standard deviation, frames, of the Gaussian weights of a local linear
        regression over time of the transform's log-scale, angle and source centre (steady
        motion is kept, landmark jitter removed); 0: per-frame fits, which jitter.

    Returns
    -------
    (T, 2, 3) float64 affine matrices, native pixels → crop pixels.
    """
    tpl = _template(template)
    valid = track.valid
    if not valid.any():
        raise NoFaceError("no frame with a valid face: nothing to align to")
    dst = tpl.points * size
    pts = tpl.from_landmarks(track.landmarks.astype(np.float64))
    params = np.zeros((len(track), 4))
    for t in np.flatnonzero(valid):
        m = umeyama(pts[t], dst)
        scale = np.hypot(m[0, 0], m[1, 0])
        angle = np.arctan2(m[1, 0], m[0, 0])
        # the source point that lands on the crop centre: invert m at (size/2, size/2)
        src_c = np.linalg.solve(m[:, :2], np.array([size / 2, size / 2]) - m[:, 2])
        params[t] = (np.log(scale), angle, *src_c)
    params[valid, 1] = np.unwrap(params[valid, 1])
    p = _smooth(params, valid, smooth)
    return _matrices(np.exp(p[:, 0]), p[:, 1], p[:, 2], p[:, 3], size)


def box_transforms(track: FaceTrack, size: int = 256, scale: float = 0.4, kernel: int = 13) -> np.ndarray:
    """Per-frame SyncNet-style box crops of a track's face.

    Parameters
    ----------
    track : the clip's :class:`FaceTrack`.
    size : side of the output crop, pixels.
    scale : crop margin (``crop_scale`` of syncnet_python, 0.4): the square has half-side
        ``s·(1 + scale)`` around the point ``s·scale`` below the box centre, ``s`` the box's
        half-side.
    kernel : median filter length, frames, over the box centre and half-side (syncnet_python
        uses 13 on S3FD boxes; its zero padding at the clip's ends, which shrinks the first
        and last boxes, is not copied here: the ends repeat the nearest value. The exact
        reference crop for SyncNet scores is :mod:`thgeval.metrics.sync_crops`).

    Returns
    -------
    (T, 2, 3) float64 affine matrices (scale and translation only), native → crop pixels.
    """
    valid = track.valid
    if not valid.any():
        raise NoFaceError("no frame with a valid face: nothing to crop")
    b = track.boxes.astype(np.float64)
    params = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                       np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2], axis=1)
    params = _fill(np.where(valid[:, None], params, 0.0), valid)
    if kernel > 1:
        params = median_filter(params, size=(kernel, 1), mode="nearest")
    cx, cy, s = params.T
    half = s * (1 + scale)
    return _matrices(size / (2 * half), np.zeros(len(s)), cx, cy + s * scale, size)


def transform_points(points: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Map (T, K, 2) points (e.g. landmarks) with (T, 2, 3) transforms: (T, K, 2) float64."""
    p = np.asarray(points, np.float64)
    m = np.asarray(transforms, np.float64)
    return np.einsum("tij,tkj->tki", m[:, :, :2], p) + m[:, None, :, 2]


def warp_frames(frames, transforms: np.ndarray, size: int = 256) -> np.ndarray:
    """Warp frames (T×H×W×3 uint8, or any sequence of frames) into ``size × size`` crops.

    Bilinear interpolation; a frame shrunk by more than 2× is first reduced by area
    averaging (no aliasing). Outside the frame is black, and so is the whole crop of a
    frame whose transform is not finite (NaN marks a frame not to use). Returns
    T×size×size×3 uint8.
    """
    transforms = np.asarray(transforms, np.float64)
    out = np.empty((len(transforms), size, size, 3), np.uint8)
    for t, (frame, m) in enumerate(zip(frames, transforms)):
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        if not np.isfinite(m).all():
            out[t] = 0
            continue
        k = np.sqrt(abs(np.linalg.det(m[:, :2])))
        if k < 0.5:
            r = 2 * k
            h, w = frame.shape[:2]
            small = cv2.resize(frame, (max(1, round(w * r)), max(1, round(h * r))), interpolation=cv2.INTER_AREA)
            rx, ry = small.shape[1] / w, small.shape[0] / h
            m = m.copy()
            m[:, 0] /= rx
            m[:, 1] /= ry
            frame = small
        out[t] = cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out
