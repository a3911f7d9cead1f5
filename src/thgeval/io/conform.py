"""Making a prediction comparable to its ground truth: fps, frame size and length.

Every adjustment is written into the row's notes; a policy of ``error`` turns the
mismatch into a per-clip failure instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ..errors import ConfigError, MismatchError
from .probe import ClipInfo

FPS_POLICIES = ("resample", "error")
SIZE_POLICIES = ("pred-to-gt", "gt-to-pred", "error")
LENGTH_POLICIES = ("common", "error")


@dataclass(frozen=True)
class ConformPolicy:
    """``fps``: resample pred to GT's rate by timestamps, or error. ``size``: resize pred to
    GT's size, GT to pred's, or error. ``length``: compare the common frames, or error."""

    fps: str = "resample"
    size: str = "pred-to-gt"
    length: str = "common"

    def __post_init__(self):
        for name, allowed in (("fps", FPS_POLICIES), ("size", SIZE_POLICIES), ("length", LENGTH_POLICIES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"--on-{name}-mismatch must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConformPlan:
    pred_fps: float | None  # None: decode pred at its own rate
    pred_size: tuple[int, int] | None  # (w, h) to resize pred frames to
    gt_size: tuple[int, int] | None
    notes: tuple[str, ...]


def _same_fps(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-3 * max(a, b)


def plan(pred: ClipInfo, gt: ClipInfo, policy: ConformPolicy) -> ConformPlan:
    """What to do so pred frames line up with GT frames; raises MismatchError per policy."""
    notes = []
    pred_fps = None
    if not _same_fps(pred.fps, gt.fps):
        if policy.fps == "error":
            raise MismatchError(f"fps differ: pred {pred.fps:g}, GT {gt.fps:g} (policy: error)")
        pred_fps = gt.fps  # the reader notes the resampling itself
    pred_size = gt_size = None
    if (pred.width, pred.height) != (gt.width, gt.height):
        sizes = f"pred {pred.width}×{pred.height}, GT {gt.width}×{gt.height}"
        if policy.size == "error":
            raise MismatchError(f"frame sizes differ: {sizes} (policy: error)")
        if policy.size == "pred-to-gt":
            pred_size = (gt.width, gt.height)
            notes.append(f"pred resized to GT's size ({sizes})")
        else:
            gt_size = (pred.width, pred.height)
            notes.append(f"GT resized to pred's size ({sizes})")
    return ConformPlan(pred_fps, pred_size, gt_size, tuple(notes))


def resize_frames(frames: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize a T×H×W×3 batch to (w, h): area averaging to shrink, bicubic to enlarge."""
    if size is None or (frames.shape[2], frames.shape[1]) == size:
        return frames
    w, h = size
    shrink = w * h < frames.shape[1] * frames.shape[2]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])


def length_note(n_pred: int, n_gt: int, policy: ConformPolicy) -> str | None:
    """None when lengths agree; a note when compared over the common frames; raises per policy."""
    if n_pred == n_gt:
        return None
    if policy.length == "error":
        raise MismatchError(f"lengths differ: pred {n_pred} frames, GT {n_gt} (policy: error)")
    return f"compared over the {min(n_pred, n_gt)} common frames (pred {n_pred}, GT {n_gt})"
