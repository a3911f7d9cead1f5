"""dlib 68-point landmarks for tests, until thgeval.face is merged (then: analyze_clip)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np


def have_dlib() -> bool:
    return importlib.util.find_spec("dlib") is not None and importlib.util.find_spec("face_recognition_models") is not None


def dlib_landmarks(frames: np.ndarray, every: int = 25) -> np.ndarray:
    """68 dlib landmarks per frame; the face box is detected every ``every`` frames and the
    nearest detection serves the frames between (NaN where no face was ever found)."""
    import dlib

    spec = importlib.util.find_spec("face_recognition_models")
    model = os.path.join(os.path.dirname(spec.origin), "models", "shape_predictor_68_face_landmarks.dat")
    det, sp = dlib.get_frontal_face_detector(), dlib.shape_predictor(model)
    boxes = {}
    for t in range(0, len(frames), every):
        found = det(frames[t], 0) or det(frames[t], 1)
        if found:
            boxes[t] = max(found, key=lambda r: r.area())
    out = np.full((len(frames), 68, 2), np.nan)
    if not boxes:
        return out
    keys = np.array(sorted(boxes))
    for t in range(len(frames)):
        box = boxes[int(keys[np.abs(keys - t).argmin()])]
        out[t] = [(p.x, p.y) for p in sp(frames[t], box).parts()]
    return out


class Track:
    """The FaceTrack fields a reader uses."""

    def __init__(self, landmarks: np.ndarray):
        self.landmarks = landmarks.astype(np.float32)
        self.valid = np.isfinite(landmarks).all(axis=(1, 2))
