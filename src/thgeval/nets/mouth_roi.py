"""Mouth regions of interest for lip readers, from frames and 68-point landmarks.

Two pipelines, as pure functions on arrays (frames T×H×W×3 uint8 RGB, landmarks T×68×2 in
pixels with NaN where no face, a validity mask):

1. The one the sentence-level readers share (Martinez et al. 2020 TCN; Ma et al. 2023
   Auto-AVSR ``preparation/detectors/retinaface/video_process.py``; Shi et al. 2022 AV-HuBERT
   ``avhubert/preparation/align_mouth.py``): landmarks linearly interpolated over missed frames
   (edges held), smoothed over a 12-frame window, each frame similarity-warped so that stable
   points land on a reference mean face in a 256×256 canvas, a 96×96 patch cut around the
   mean of landmarks 48–67, grayscale; the reader then takes the centre 88×88 and
   normalises ``(x/255 − 0.421)/0.165``, at 25 fps. Variants:

   - ``auto-avsr`` (default): window centred on the frame (±6, shrinking at the ends), shifted
     back to the frame's own landmark centroid; stable points 28, 33, 36, 39, 42, 45, 48, 54;
     ``cv2.estimateAffinePartial2D`` (LMedS); ``cv2.warpAffine`` bilinear, black border;
     grayscale (``cv2`` RGB→GRAY) before the warp; patch centred on the warped *smoothed* mouth.
   - ``av-hubert``: window of the frame and the next 11 (the last frames reuse the last
     transform); stable points 33, 36, 39, 42, 45; least-squares similarity (Umeyama, as
     scikit-image's ``SimilarityTransform``); patch centred on the warped mouth of the frame
     itself, shifted inside the canvas. Warped with ``cv2.warpAffine`` here, where the reference
     uses scikit-image's ``warp`` (bilinear too; values may differ by a grey level).

   Where the patch reaches outside the 256×256 canvas the reference clips it (a smaller patch);
   here it is padded with black so every patch is 96×96 (the frame is flagged).

2. LipNet's colour crop (Assael et al. 2016; rizkiarm/LipNet ``lipnet/lipreading/videos.py``):
   the scale that makes the mouth box 100 px wide is taken from the first frame (the box's
   edges are the mouth's min / max x multiplied by 0.81 / 1.19, as that code does), each frame
   is resized by it, and a 100×50 crop is cut around the mouth centroid. The reference resizes
   with PIL's bilinear filter (``scipy.misc.imresize``); here ``cv2.INTER_AREA`` when shrinking
   and bilinear when enlarging.

The mean face (``20words_mean_face.npy``, 68×2 in the 256×256 canvas) is not shipped: it is
the weights-registry asset ``mean-face-20words`` (``thgeval weights fetch mean-face-20words``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import MetricSkipped

MOUTH = slice(48, 68)
MEAN, STD = 0.421, 0.165  # Auto-AVSR / AV-HuBERT grey-level normalisation


@dataclass(frozen=True)
class RoiSettings:
    """One published mouth-ROI pipeline (see the module docstring)."""

    name: str = "auto-avsr"
    window: int = 12
    smoothing: str = "centred"  # or "leading"
    stable_points: tuple[int, ...] = (28, 33, 36, 39, 42, 45, 48, 54)
    estimator: str = "lmeds"  # or "umeyama"
    canvas: int = 256
    crop: int = 96
    final: int = 88
    gray: bool = True
    centre_on: str = "smoothed"  # or "frame"
    skimage_warp: bool = False  # warp colour in float and truncate, then gray (AV-HuBERT's order)


AUTO_AVSR = RoiSettings()
AV_HUBERT = RoiSettings(name="av-hubert", smoothing="leading", stable_points=(33, 36, 39, 42, 45),
                        estimator="umeyama", centre_on="frame", skimage_warp=True)
PIPELINES = {s.name: s for s in (AUTO_AVSR, AV_HUBERT)}


@dataclass
class MouthRois:
    """Patches and where the mouth is in them.

    ``rois`` (T, crop, crop) uint8 (gray) or (T, crop, crop, 3); ``mouth`` (T, 20, 2) the frame's
    own landmarks 48–67 in patch pixels; ``transforms`` (T, 2, 3) frame → canvas; ``origins``
    (T, 2) the patch's top-left corner in the canvas; ``clipped`` (T,) bool, the patch reached
    outside the canvas; ``interpolated`` (T,) bool, the frame had no landmarks of its own.
    """

    rois: np.ndarray
    mouth: np.ndarray
    transforms: np.ndarray
    origins: np.ndarray
    clipped: np.ndarray
    interpolated: np.ndarray


def interpolate_landmarks(landmarks: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill frames without landmarks: linear between the nearest valid frames, held at the ends.

    Returns ``(filled (T,68,2) float64, interpolated (T,) bool)``; raises MetricSkipped when no
    frame has landmarks.
    """
    lm = np.asarray(landmarks, dtype=np.float64).copy()
    ok = np.isfinite(lm).all(axis=(1, 2)) if valid is None else (np.asarray(valid, bool) & np.isfinite(lm).all(axis=(1, 2)))
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        raise MetricSkipped("no face landmarks in any frame: no mouth region to read")
    t = np.arange(len(lm))
    flat = lm.reshape(len(lm), -1)
    for k in range(flat.shape[1]):
        flat[:, k] = np.interp(t, idx, flat[idx, k])  # holds the end values outside [idx0, idx-1]
    return flat.reshape(lm.shape), ~ok


def smooth_centred(landmarks: np.ndarray, window: int = 12) -> np.ndarray:
    """Auto-AVSR's smoothing: mean over frames t−m … t+m (m = min(window//2, t, T−1−t)),
    shifted so its centroid is frame t's own landmark centroid."""
    lm = np.asarray(landmarks, dtype=np.float64)
    n = len(lm)
    out = np.empty_like(lm)
    for t in range(n):
        m = min(window // 2, t, n - 1 - t)
        s = lm[t - m:t + m + 1].mean(axis=0)  # the reference's summation order: bit-identical windows
        out[t] = s + (lm[t].mean(axis=0) - s.mean(axis=0))
    return out


def umeyama_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src → dst, 2×3
    (Umeyama 1991; the estimate of scikit-image's SimilarityTransform)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[-1] = -1
    r = u @ np.diag(d) @ vt
    var = (s0 ** 2).sum() / len(src)
    scale = (sig * d).sum() / var if var > 0 else 1.0
    m = np.empty((2, 3))
    m[:, :2] = scale * r
    m[:, 2] = md - scale * r @ ms
    return m


def estimate_similarity(src: np.ndarray, dst: np.ndarray, estimator: str = "lmeds") -> np.ndarray:
    if estimator == "umeyama":
        return umeyama_similarity(src, dst)
    if estimator == "lmeds":
        m, _ = cv2.estimateAffinePartial2D(np.asarray(src, np.float64), np.asarray(dst, np.float64), method=cv2.LMEDS)
        if m is None:
            return umeyama_similarity(src, dst)
        return m
    raise ValueError(f"estimator must be lmeds or umeyama; got {estimator!r}")


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def _cut(img: np.ndarray, y0: int, x0: int, size: int) -> tuple[np.ndarray, bool]:
    """img[y0:y0+size, x0:x0+size] with black outside the image."""
    h, w = img.shape[:2]
    out = np.zeros((size, size) + img.shape[2:], dtype=img.dtype)
    ya, yb, xa, xb = max(y0, 0), min(y0 + size, h), max(x0, 0), min(x0 + size, w)
    if ya < yb and xa < xb:
        out[ya - y0:yb - y0, xa - x0:xb - x0] = img[ya:yb, xa:xb]
    return out, not (y0 >= 0 and x0 >= 0 and y0 + size <= h and x0 + size <= w)


def mouth_rois(frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray | None, mean_face: np.ndarray,
               settings: RoiSettings = AUTO_AVSR) -> MouthRois:
    """Aligned mouth patches of a clip (see the module docstring for the two variants).

    Parameters
    ----------
    frames : (T, H, W, 3) uint8 RGB, at 25 fps for the published readers.
    landmarks : (T, 68, 2) float pixels, dlib 68-point order; NaN where no face.
    valid : (T,) bool or None (None: finite landmarks are valid).
    mean_face : (68, 2) reference face in the ``settings.canvas`` square.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or len(frames) != len(landmarks):
        raise ValueError(f"frames {frames.shape} and landmarks {np.shape(landmarks)} do not match")
    ref = np.asarray(mean_face, dtype=np.float64)
    if ref.shape != (68, 2):
        raise ValueError(f"mean face must be 68×2; got {ref.shape}")
    lm, interp = interpolate_landmarks(landmarks, valid)
    n, s, size, half = len(lm), settings, settings.canvas, settings.crop // 2
    stable = list(s.stable_points)
    if s.smoothing == "centred":
        smooth = smooth_centred(lm, s.window)
        transforms = np.stack([estimate_similarity(smooth[t, stable], ref[stable], s.estimator) for t in range(n)])
    elif s.smoothing == "leading":
        margin = min(n, s.window)
        last = n - margin
        transforms = np.empty((n, 2, 3))
        for t in range(last + 1):
            transforms[t] = estimate_similarity(lm[t:t + margin].mean(axis=0)[stable], ref[stable], s.estimator)
        transforms[last + 1:] = transforms[last]
        smooth = lm
    else:
        raise ValueError(f"smoothing must be centred or leading; got {s.smoothing!r}")
    gray_shape = (n, s.crop, s.crop) if s.gray else (n, s.crop, s.crop, 3)
    rois = np.zeros(gray_shape, np.uint8)
    mouth = np.empty((n, 20, 2))
    origins = np.empty((n, 2))
    clipped = np.zeros(n, bool)
    for t in range(n):
        if s.skimage_warp:
            # scikit-image warps in float64 and the reference truncates ×255 to uint8
            w = cv2.warpAffine(frames[t].astype(np.float32), transforms[t], (size, size), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            warped = np.floor(np.clip(w, 0, 255)).astype(np.uint8)
            warped = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY) if s.gray else warped
        else:
            img = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY) if s.gray else frames[t]
            warped = cv2.warpAffine(img, transforms[t], (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        centre_pts = smooth[t, MOUTH] if s.centre_on == "smoothed" else lm[t, MOUTH]
        cx, cy = _apply(transforms[t], centre_pts).mean(axis=0)
        if s.centre_on == "frame":  # AV-HuBERT shifts the patch inside the canvas
            cx, cy = np.clip(cx, half, size - half), np.clip(cy, half, size - half)
        y0, x0 = int(np.round(cy - half)), int(np.round(cx - half))
        rois[t], clipped[t] = _cut(warped, y0, x0, s.crop)
        origins[t] = (x0, y0)
        mouth[t] = _apply(transforms[t], lm[t, MOUTH]) - (x0, y0)
    return MouthRois(rois, mouth, transforms, origins, clipped, interp)


def normalise_rois(rois: np.ndarray, final: int = 88) -> np.ndarray:
    """The readers' input: centre ``final``×``final`` of each patch, grey levels
    ``(x/255 − 0.421)/0.165``; (T, final, final) float32 (colour patches are made gray first,
    ITU-R 601 weights as torchvision's Grayscale)."""
    r = np.asarray(rois)
    if r.ndim == 4:
        r = r.astype(np.float32) @ np.array([0.2989, 0.587, 0.114], np.float32)
    h, w = r.shape[1:3]
    top, left = int(round((h - final) / 2.0)), int(round((w - final) / 2.0))
    r = r[:, top:top + final, left:left + final].astype(np.float32)
    return (r / 255.0 - MEAN) / STD


def lipnet_crop(frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray | None = None,
                size: tuple[int, int] = (100, 50), pad: float = 0.19) -> tuple[np.ndarray, np.ndarray]:
    """LipNet's colour mouth crop: (T, h, w, 3) uint8 RGB and the mouth points (T, 20, 2) in it.

    ``size`` is (width, height); the scale comes from the first frame's mouth box (see the
    module docstring), so the crop follows the mouth but keeps one zoom for the clip.
    """
    frames = np.asarray(frames)
    lm, _ = interpolate_landmarks(landmarks, valid)
    w_out, h_out = size
    first = lm[0, MOUTH]
    left, right = first[:, 0].min() * (1.0 - pad), first[:, 0].max() * (1.0 + pad)
    if right - left <= 0:
        raise MetricSkipped("degenerate mouth box in the first frame")
    ratio = w_out / float(right - left)
    h, w = frames.shape[1:3]
    new_w, new_h = max(int(w * ratio), 1), max(int(h * ratio), 1)
    interp = cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR
    out = np.zeros((len(frames), h_out, w_out, 3), np.uint8)
    mouth = np.empty((len(frames), 20, 2))
    for t in range(len(frames)):
        resized = cv2.resize(frames[t], (new_w, new_h), interpolation=interp)
        c = lm[t, MOUTH].mean(axis=0) * ratio
        x0, y0 = int(c[0] - w_out / 2), int(c[1] - h_out / 2)
        ya, yb, xa, xb = max(y0, 0), min(y0 + h_out, new_h), max(x0, 0), min(x0 + w_out, new_w)
        if ya < yb and xa < xb:
            out[t, ya - y0:yb - y0, xa - x0:xb - x0] = resized[ya:yb, xa:xb]
        mouth[t] = lm[t, MOUTH] * ratio - (x0, y0)
    return out, mouth


def reader_input(frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray | None = None,
                 settings: RoiSettings = AUTO_AVSR, mean_face: np.ndarray | None = None) -> np.ndarray:
    """What a sentence-level reader (Auto-AVSR, AV-HuBERT) takes: (T, 88, 88) float32 normalised
    mouth crops of frames at 25 fps. ``mean_face`` defaults to the weights-registry asset
    ``mean-face-20words`` (a skip naming ``thgeval weights fetch mean-face-20words`` if absent)."""
    if mean_face is None:
        from ..weights import locate

        mean_face = load_mean_face(locate("mean-face-20words"))
    return normalise_rois(mouth_rois(frames, landmarks, valid, mean_face, settings).rois, settings.final)


def load_mean_face(path) -> np.ndarray:
    """A 68×2 mean-face file (``.npy``)."""
    ref = np.load(path)
    if ref.shape != (68, 2):
        raise ValueError(f"{path}: a mean face is 68×2 points; got {ref.shape}")
    return ref.astype(np.float64)


def resample_to(fps: float, n: int, target: float = 25.0) -> np.ndarray:
    """Indices of the native frames shown at ``target`` fps (nearest earlier tick)."""
    if abs(fps - target) < 1e-3:
        return np.arange(n)
    count = int(np.floor(n * target / fps + 1e-9))
    return np.minimum(np.floor(np.arange(count) * fps / target + 1e-9).astype(int), n - 1)
