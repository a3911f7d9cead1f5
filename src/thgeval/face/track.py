"""The face track of a clip: per frame the chosen face's box, 68 landmarks and validity."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ThgevalError

N_LANDMARKS = 68


@dataclass
class FaceTrack:
    """One face per frame of a clip: the dominant face (largest and most persistent).

    Attributes
    ----------
    boxes : (T, 4) float32, ``x0, y0, x1, y1`` in native pixels of the frame (x0, y0
        inclusive top-left, x1, y1 the bottom-right corner as dlib reports it), in the box
        convention of dlib's HOG face detector; NaN where invalid.
    landmarks : (T, 68, 2) float32 ``x, y`` native pixels, the iBUG 300-W / dlib 68-point
        order (0–16 jaw, 17–26 brows, 27–35 nose, 36–47 eyes, 48–67 mouth); NaN where invalid.
    valid : (T,) bool, a face is known in this frame (detected, or interpolated across a
        short gap).
    interpolated : (T,) bool, subset of ``valid``: box and landmarks are a linear
        interpolation between the detections bounding a gap of at most ``max_gap`` frames.
    scores : (T,) float32, the detector's score of the face (HOG: SVM margin, CNN:
        confidence); NaN where invalid or interpolated.
    n_faces : (T,) int, faces tracked in the frame (the chosen one included); 0 where none.
        A face entering the picture is noticed at the next full scan (every
        ``detect_every`` frames) and followed back from there.
    frame_size : ``(width, height)`` of the analysed frames, pixels.
    fps : frame rate of the frames, Hz (NaN when unknown).
    settings_key : :attr:`FaceSettings.key` of the analysis that produced the track.
    """

    boxes: np.ndarray
    landmarks: np.ndarray
    valid: np.ndarray
    interpolated: np.ndarray
    scores: np.ndarray
    n_faces: np.ndarray
    frame_size: tuple[int, int]
    fps: float = float("nan")
    settings_key: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        t = len(self.valid)
        self.boxes = np.asarray(self.boxes, np.float32).reshape(t, 4)
        self.landmarks = np.asarray(self.landmarks, np.float32).reshape(t, N_LANDMARKS, 2)
        self.valid = np.asarray(self.valid, bool)
        self.interpolated = np.asarray(self.interpolated, bool) & self.valid
        self.scores = np.asarray(self.scores, np.float32).reshape(t)
        self.n_faces = np.asarray(self.n_faces, np.int32).reshape(t)
        self.frame_size = (int(self.frame_size[0]), int(self.frame_size[1]))
        self.fps = float(self.fps)
        self.notes = tuple(self.notes)

    def __len__(self) -> int:
        return len(self.valid)

    @property
    def detection_rate(self) -> float:
        """Share of frames where the face was detected (interpolated frames not counted), 0–1."""
        return float(np.mean(self.valid & ~self.interpolated)) if len(self) else 0.0

    @property
    def valid_rate(self) -> float:
        """Share of frames with a known face (detected or interpolated), 0–1."""
        return float(np.mean(self.valid)) if len(self) else 0.0

    def take(self, indices, fps: float | None = None) -> "FaceTrack":
        """The track at other frame indices (a resampled timeline: ``reader.source_index``).

        ``indices`` index this track's frames; ``fps`` is the new timeline's rate (default:
        unchanged).
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"frame index out of range 0..{len(self) - 1}: {idx.min()}..{idx.max()}")
        return FaceTrack(
            self.boxes[idx], self.landmarks[idx], self.valid[idx], self.interpolated[idx],
            self.scores[idx], self.n_faces[idx], self.frame_size,
            self.fps if fps is None else fps, self.settings_key, self.notes,
        )

    def scaled(self, sx: float, sy: float) -> "FaceTrack":
        """The track of the frames resized by ``(sx, sy)`` (pixel coordinates scaled)."""
        s = np.array([sx, sy], np.float32)
        w, h = self.frame_size
        return FaceTrack(
            self.boxes * np.tile(s, 2), self.landmarks * s, self.valid, self.interpolated, self.scores,
            self.n_faces, (round(w * sx), round(h * sy)), self.fps, self.settings_key, self.notes,
        )

    # --- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the track as ``.npz``, atomically (temporary file in the same folder, then
        ``os.replace``): a reader never sees a half-written file, and concurrent writers of
        the same path leave one complete file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(
                    f, boxes=self.boxes, landmarks=self.landmarks, valid=self.valid,
                    interpolated=self.interpolated, scores=self.scores, n_faces=self.n_faces,
                    frame_size=np.asarray(self.frame_size, np.int64), fps=np.float64(self.fps),
                    settings_key=np.str_(self.settings_key), notes=np.asarray(self.notes, dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FaceTrack":
        """Read a track written by :meth:`save`; raises ThgevalError for a damaged file."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(
                    z["boxes"], z["landmarks"], z["valid"], z["interpolated"], z["scores"], z["n_faces"],
                    tuple(z["frame_size"].tolist()), float(z["fps"]), str(z["settings_key"]),
                    tuple(str(n) for n in z["notes"]),
                )
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ThgevalError(f"{path}: not a readable face track ({type(e).__name__}: {e})") from None

    @classmethod
    def empty(cls, n: int, frame_size: tuple[int, int], fps: float = float("nan"), settings_key: str = "") -> "FaceTrack":
        """A track of ``n`` frames without any face."""
        return cls(
            np.full((n, 4), np.nan, np.float32), np.full((n, N_LANDMARKS, 2), np.nan, np.float32),
            np.zeros(n, bool), np.zeros(n, bool), np.full(n, np.nan, np.float32), np.zeros(n, np.int32),
            frame_size, fps, settings_key,
        )


def fill_gaps(boxes: np.ndarray, landmarks: np.ndarray, valid: np.ndarray, max_gap: int):
    """Linearly interpolate boxes and landmarks across interior gaps of ≤ ``max_gap`` frames.

    Parameters
    ----------
    boxes : (T, 4) float, landmarks : (T, 68, 2) float, valid : (T,) bool.
    max_gap : longest run of invalid frames (between two valid ones) that is filled.

    Returns
    -------
    boxes, landmarks, valid, interpolated : new arrays; frames before the first and after
    the last valid frame are never filled.
    """
    boxes, landmarks = boxes.copy(), landmarks.copy()
    valid = valid.copy()
    interp = np.zeros_like(valid)
    idx = np.flatnonzero(valid)
    if max_gap <= 0 or len(idx) < 2:
        return boxes, landmarks, valid, interp
    for a, b in zip(idx[:-1], idx[1:]):
        gap = b - a - 1
        if 0 < gap <= max_gap:
            w = (np.arange(1, gap + 1, dtype=np.float32) / (gap + 1))
            boxes[a + 1:b] = boxes[a] + w[:, None] * (boxes[b] - boxes[a])
            landmarks[a + 1:b] = landmarks[a] + w[:, None, None] * (landmarks[b] - landmarks[a])
            valid[a + 1:b] = True
            interp[a + 1:b] = True
    return boxes, landmarks, valid, interp
