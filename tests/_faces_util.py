"""Face tracks for lip-sync tests while thgeval.face may be absent: dlib directly.

Gives objects with the FaceTrack fields the sync metrics read (``boxes``, ``landmarks``,
``valid``, ``fps``, ``frame_size``), computed once per file per test session.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np

_CACHE: dict[str, SimpleNamespace] = {}


def _predictor_path() -> str:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None:
        import pytest

        pytest.skip("face_recognition_models not installed (dlib's 68-point model)")
    return str(Path(list(spec.submodule_search_locations)[0]) / "models" / "shape_predictor_68_face_landmarks.dat")


def dlib_track(frames: np.ndarray, fps: float = 25.0, detect_every: int = 2) -> SimpleNamespace:
    """Largest frontal face per frame (detected every ``detect_every`` frames), 68 landmarks."""
    import dlib

    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(_predictor_path())
    t = len(frames)
    lm = np.full((t, 68, 2), np.nan, np.float32)
    boxes = np.full((t, 4), np.nan, np.float32)
    valid = np.zeros(t, bool)
    rect = None
    for i, f in enumerate(frames):
        if i % detect_every == 0 or rect is None:
            found = det(f, 0)
            rect = max(found, key=lambda r: r.area()) if len(found) else None
        if rect is None:
            continue
        shape = sp(f, rect)
        lm[i] = [(p.x, p.y) for p in shape.parts()]
        boxes[i] = (rect.left(), rect.top(), rect.right(), rect.bottom())
        valid[i] = True
    h, w = frames.shape[1:3]
    return SimpleNamespace(boxes=boxes, landmarks=lm, valid=valid, interpolated=np.zeros(t, bool),
                           fps=fps, frame_size=(w, h), detection_rate=float(valid.mean()))


def track_for(path, frames=None) -> SimpleNamespace:
    key = str(Path(path).resolve())
    if key not in _CACHE:
        from thgeval.io import load_clip

        clip = load_clip(path, audio=False) if frames is None else None
        _CACHE[key] = dlib_track(clip.frames if clip else frames, clip.fps if clip else 25.0)
    return _CACHE[key]


def patch_faces(monkeypatch) -> None:
    """Make Sample.face use dlib tracks when the face layer is not installed."""
    if importlib.util.find_spec("thgeval.face") is not None:
        return
    from thgeval.metrics.sample import MediaCache

    monkeypatch.setattr(MediaCache, "face", lambda self, path, options: track_for(path))
