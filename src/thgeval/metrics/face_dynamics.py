"""How a face moves, without a reference: blink rate, head-pose diversity, landmark jitter.

Each is a property of one clip's face track (dlib 68 points), so the GT clips get the same
number in the ``real`` row: the level a generated clip should come close to (a talking
head that never blinks, never turns, or whose landmarks tremble shows here, where
full-reference metrics on the same clip may look fine). Frames where the face was not
detected (missing or interpolated) never count; clips with too few detected frames are
skipped with the reason.

References
----------
T. Soukupová and J. Čech, "Real-Time Eye Blink Detection using Facial Landmarks", CVWW 2016
(eye aspect ratio). Head pose: a rigid 6-point 3D face model fitted with OpenCV's solvePnP
(iterative Levenberg–Marquardt), pinhole camera with focal length = frame width.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MetricSkipped
from .face_pairs import detected
from .registry import CLIP, MEAN_OF_CLIP_MEANS, ClipValue, Metric, Variant, register
from .sample import PRED

# dlib 68-point eyes in Soukupová & Čech's p1…p6 order: corner, top ×2, corner, bottom ×2
RIGHT_EYE = (36, 37, 38, 39, 40, 41)  # the subject's right eye (image left)
LEFT_EYE = (42, 43, 44, 45, 46, 47)


def eye_aspect_ratio(landmarks: np.ndarray) -> np.ndarray:
    """(T,) eye aspect ratio, mean of both eyes: (|p2−p6| + |p3−p5|) / (2 |p1−p4|).

    About 0.25–0.35 for an open eye, near 0 when closed; NaN where landmarks are NaN.
    """
    lm = np.asarray(landmarks, np.float64)

    def ear(eye):
        p = lm[:, list(eye)]
        v = np.linalg.norm(p[:, 1] - p[:, 5], axis=1) + np.linalg.norm(p[:, 2] - p[:, 4], axis=1)
        h = np.linalg.norm(p[:, 0] - p[:, 3], axis=1)
        return v / np.maximum(2 * h, 1e-9)

    return (ear(RIGHT_EYE) + ear(LEFT_EYE)) / 2


def count_blinks(ear: np.ndarray, ok: np.ndarray, fps: float, *, close: float = 0.65, reopen: float = 0.85,
                 min_duration: float = 0.06, max_duration: float = 1.0) -> tuple[int, np.ndarray]:
    """Blinks in an EAR series, with hysteresis.

    The eye's open level is the clip's median EAR over detected frames (so the thresholds
    adapt to the person and the landmark model). A blink starts when the EAR falls below
    ``close`` × that level and lasts until it rises above ``reopen`` × that level (a dip
    that does not reopen in between is one blink, not two); it counts when it lasts
    ``min_duration``–``max_duration`` seconds (at least two frames below ``reopen``, so a
    one-frame landmark glitch at 25 fps is not a blink) and starts and ends next to frames
    with a detected face. Returns the count and the (T,) mask of frames inside a blink.
    """
    ear = np.asarray(ear, np.float64)
    ok = np.asarray(ok, bool) & np.isfinite(ear)
    closed = np.zeros(len(ear), bool)
    if ok.sum() < 2:
        return 0, closed
    level = float(np.median(ear[ok]))
    lo = max(2, math.ceil(min_duration * fps - 1e-9))
    hi = max(lo, math.floor(max_duration * fps + 1e-9))
    blinks, t, n = 0, 0, len(ear)
    while t < n:
        if not (ok[t] and ear[t] < close * level):
            t += 1
            continue
        u = t
        while u < n and ok[u] and ear[u] <= reopen * level:
            u += 1
        a = t
        while a > 0 and ok[a - 1] and ear[a - 1] <= reopen * level:  # the descent belongs to it
            a -= 1
        # a blink running into a frame without a face has an unknown length: not counted
        bounded = (a == 0 or ok[a - 1]) and (u == n or ok[u])
        if bounded and lo <= u - a <= hi:
            blinks += 1
            closed[a:u] = True
        t = u
    return blinks, closed


def _blink_clip(sample, *, close: float, reopen: float, min_duration: float, max_duration: float, min_seconds: float) -> ClipValue:
    track = sample.face(PRED)
    ok = detected(track)
    fps = sample.fps(PRED)
    seconds = ok.sum() / fps
    if seconds < min_seconds:
        raise MetricSkipped(f"{seconds:.1f} s with a detected face; a blink rate needs at least {min_seconds:g} s")
    ear = eye_aspect_ratio(track.landmarks)
    n, closed = count_blinks(ear, ok, fps, close=close, reopen=reopen, min_duration=min_duration, max_duration=max_duration)
    notes = [] if ok.all() else [f"{int((~ok).sum())} of {len(ok)} frames without a detected face excluded"]
    return ClipValue(n / seconds * 60.0, int(ok.sum()), series=np.where(ok, ear, np.nan).astype(np.float32),
                     notes=notes, extra={"blinks": n, "seconds": round(float(seconds), 3)})


register(Metric(
    name="blink_rate", title="Blinks/min", higher_is_better=True, needs=frozenset({"face"}), kind=CLIP,
    clip_fn=_blink_clip, version="1", family="face", unit="blinks/min", value_range="≥ 0 (people: ~10–20 at rest)",
    variants={"ear": Variant(
        "ear", {"close": 0.65, "reopen": 0.85, "min_duration": 0.06, "max_duration": 1.0, "min_seconds": 1.0},
        reference="eye aspect ratio (Soukupová & Čech 2016) on dlib's 68 points; a blink falls below 0.65 × the "
                  "clip's median EAR and lasts 0.06–1 s until it is back above 0.85 ×; per minute of detected face",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="compare with the real row: a rate far from it (often 0) marks a generator that does not blink")},
    default_variant="ear",
    description="blinks per minute, from the eye aspect ratio (no reference; the real row is the target)"))


# --- head pose ---------------------------------------------------------------------------------

#: A generic rigid face (arbitrary units, x right, y down, z away from the camera; nose tip
#: at the origin): nose tip (30), chin (8), outer eye corners (36, 45), mouth corners
#: (48, 54) — the classic 6-point model used with solvePnP for head pose.
POSE_POINTS = (30, 8, 36, 45, 48, 54)
POSE_MODEL = np.array([
    [0.0, 0.0, 0.0], [0.0, 330.0, 65.0], [-225.0, -170.0, 135.0],
    [225.0, -170.0, 135.0], [-150.0, 150.0, 125.0], [150.0, 150.0, 125.0],
])


def head_pose(landmarks: np.ndarray, frame_size: tuple[int, int], ok: np.ndarray | None = None) -> np.ndarray:
    """(T, 3) yaw, pitch, roll in degrees per frame (NaN where not ``ok`` or no fit).

    Yaw turns about the vertical axis (positive: the face turns to the image's right),
    pitch about the horizontal (positive: looking down), roll in the image plane
    (positive: clockwise on screen); a frontal face is about (0, 0, 0). Angles come from the
    rotation of :data:`POSE_MODEL` fitted to the six landmarks by ``cv2.solvePnP`` with a
    pinhole camera (focal length = frame width, centre = frame centre, no distortion).
    """
    import cv2

    lm = np.asarray(landmarks, np.float64)
    w, h = frame_size
    cam = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    out = np.full((len(lm), 3), np.nan)
    ok = np.ones(len(lm), bool) if ok is None else np.asarray(ok, bool)
    for t in np.flatnonzero(ok):
        pts = lm[t, list(POSE_POINTS)]
        if not np.isfinite(pts).all():
            continue
        good, rvec, _ = cv2.solvePnP(POSE_MODEL, pts, cam, None, flags=cv2.SOLVEPNP_ITERATIVE)
        if not good:
            continue
        r, _ = cv2.Rodrigues(rvec)
        # R = Rz(roll) · Ry(−yaw) · Rx(pitch) in camera axes (x right, y down, z forward)
        yaw = -math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
        pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
        roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
        out[t] = (yaw, pitch, roll)
    return out


def _pose_clip(sample, *, min_frames: int) -> ClipValue:
    track = sample.face(PRED)
    ok = detected(track)
    if ok.sum() < min_frames:
        raise MetricSkipped(f"{int(ok.sum())} frames with a detected face; pose diversity needs {min_frames}")
    pose = head_pose(track.landmarks, track.frame_size, ok)
    fit = np.isfinite(pose).all(1)
    if fit.sum() < min_frames:
        raise MetricSkipped(f"head pose fitted in {int(fit.sum())} frames; pose diversity needs {min_frames}")
    std = pose[fit].std(axis=0)
    notes = [] if fit.all() else [f"{int((~fit).sum())} of {len(fit)} frames without a detected face or pose excluded"]
    return ClipValue(float(std.mean()), int(fit.sum()), series=pose[:, 0].astype(np.float32), notes=notes,
                     extra={"std_yaw": round(float(std[0]), 4), "std_pitch": round(float(std[1]), 4),
                            "std_roll": round(float(std[2]), 4),
                            "mean_yaw": round(float(pose[fit, 0].mean()), 3),
                            "mean_pitch": round(float(pose[fit, 1].mean()), 3),
                            "mean_roll": round(float(pose[fit, 2].mean()), 3)})


register(Metric(
    name="pose_diversity", title="Pose div.", higher_is_better=True, needs=frozenset({"face"}), kind=CLIP,
    clip_fn=_pose_clip, version="1", family="face", unit="°", value_range="≥ 0",
    variants={"solvepnp6": Variant(
        "solvepnp6", {"min_frames": 10},
        reference="standard deviation over the clip of yaw, pitch and roll (mean of the three, degrees) from "
                  "cv2.solvePnP of a rigid 6-point face model on dlib landmarks; per-axis values in the row",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="no reference: compare with the real row (a frozen head gives ~0)")},
    default_variant="solvepnp6",
    description="head-pose diversity: std of yaw/pitch/roll over the clip (no reference; the real row is the target)"))


# --- landmark jitter ---------------------------------------------------------------------------

def landmark_jitter(landmarks: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(T,) per-frame jitter: mean over the 68 points of the second temporal difference
    ‖x[t+1] − 2x[t] + x[t−1]‖, in percent of the inter-ocular distance (NaN where t−1, t
    or t+1 has no detected face). Smooth motion (steady or evenly accelerating) costs
    nothing; frame-to-frame trembling does."""
    lm = np.asarray(landmarks, np.float64)
    ok = np.asarray(ok, bool)
    out = np.full(len(lm), np.nan)
    if len(lm) < 3:
        return out
    acc = np.linalg.norm(lm[2:] - 2 * lm[1:-1] + lm[:-2], axis=-1).mean(-1)
    iod = np.linalg.norm(lm[:, 36:42].mean(1) - lm[:, 42:48].mean(1), axis=1)
    both = ok[2:] & ok[1:-1] & ok[:-2]
    out[1:-1] = np.where(both, 100.0 * acc / np.maximum(iod[1:-1], 1e-9), np.nan)
    return out


def _jitter_clip(sample, *, min_frames: int) -> ClipValue:
    track = sample.face(PRED)
    j = landmark_jitter(track.landmarks, detected(track))
    use = np.isfinite(j)
    if use.sum() < min_frames:
        raise MetricSkipped(f"{int(use.sum())} frames with detected faces on both sides; jitter needs {min_frames}")
    notes = [] if use.sum() == len(j) - 2 else [f"{len(j) - 2 - int(use.sum())} of {len(j) - 2} inner frames excluded "
                                                 "(no detected face in the frame or a neighbour)"]
    return ClipValue(float(j[use].mean()), int(use.sum()), series=j.astype(np.float32), notes=notes,
                     extra={"unit": "% of the inter-ocular distance per frame²"})


register(Metric(
    name="landmark_jitter", title="LM jitter", higher_is_better=False, needs=frozenset({"face"}), kind=CLIP,
    clip_fn=_jitter_clip, version="1", family="face", unit="% IOD", value_range="≥ 0",
    variants={"accel": Variant(
        "accel", {"min_frames": 5},
        reference="mean landmark acceleration (second difference over consecutive detected frames, 68 dlib "
                  "points) in % of the inter-ocular distance, at the clip's native frame rate",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="includes the landmark detector's own noise: compare with the real row, not with 0")},
    default_variant="accel",
    description="frame-to-frame landmark trembling (no reference; the real row is the detector's noise level)"))
