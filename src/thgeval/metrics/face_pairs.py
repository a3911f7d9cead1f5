"""Face tracks of a Sample as metrics compare them: pred on GT's timeline and pixel frame.

Face-aware metrics never analyse frames themselves: each side's :class:`~thgeval.face.FaceTrack`
comes from the Sample (analysed once per clip, cached on disk) on the clip's native frames,
and is mapped here onto the comparison timeline the run's conform policy defines (pred frame
shown at each GT frame, both at the conformed frame size). Which frames a comparison may use
is decided here once, so every metric counts excluded frames the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import MetricSkipped
from .sample import GT, PRED

MOUTH = tuple(range(48, 68))  # dlib 68-point mouth (outer 48–59, inner 60–67)
FACE = tuple(range(68))


@dataclass
class FacePair:
    """Pred and GT landmarks on the comparison timeline (T frames), conformed pixel frame.

    ``usable`` marks frames where both faces were detected (not interpolated, not missing);
    ``gt_detected`` / ``pred_detected`` each side's detected frames; ``notes`` say how many
    frames were excluded and why.
    """

    pred: np.ndarray  # (T, 68, 2) float64, conformed pixels
    gt: np.ndarray
    pred_detected: np.ndarray  # (T,) bool
    gt_detected: np.ndarray
    pred_track: object  # the pred FaceTrack on the comparison timeline (native pixels)
    gt_track: object
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> np.ndarray:
        return self.pred_detected & self.gt_detected

    def exclusion_note(self) -> str:
        n, u = len(self.usable), int(self.usable.sum())
        if u == n:
            return ""
        only_gt = int((self.gt_detected & ~self.pred_detected).sum())
        only_pred = int((self.pred_detected & ~self.gt_detected).sum())
        neither = n - u - only_gt - only_pred
        parts = [f"{c} {what}" for c, what in ((only_gt, "without a pred face"),
                                               (only_pred, "without a GT face"),
                                               (neither, "without either face")) if c]
        return f"{n - u} of {n} frames excluded ({', '.join(parts)})"


def detected(track) -> np.ndarray:
    """Frames where the face was detected, not interpolated across a gap (a guess)."""
    return np.asarray(track.valid, bool) & ~np.asarray(track.interpolated, bool)


def face_pair(sample, *, need_both: bool = True) -> FacePair:
    """The pred/GT landmark pair of a sample (memoised).

    Raises MetricSkipped when GT has no detected face, or (``need_both``) when no frame has
    both faces: a comparison needs them; MKR (``need_both=False``) counts the missing ones.
    """

    def build():
        c = sample.conformed()
        n = len(c.gt)
        fp = sample.face(PRED).take(c.pred_index[:n])
        fg = sample.face(GT).take(np.arange(n))
        pred = fp.landmarks.astype(np.float64) * np.asarray(c.pred_scale)
        gt = fg.landmarks.astype(np.float64) * np.asarray(c.gt_scale)
        return FacePair(pred, gt, detected(fp), detected(fg), fp, fg, list(c.notes))

    pair = sample.memo("face-pair", build)
    if not pair.gt_detected.any():
        raise MetricSkipped("no face detected in any GT frame")
    if need_both:
        if not pair.pred_detected.any():
            raise MetricSkipped("no face detected in any generated frame")
        if not pair.usable.any():
            raise MetricSkipped("no frame where both the generated and the GT face were detected")
    return pair


def with_exclusions(pair: FacePair, extra_notes=()) -> list[str]:
    """The pair's conform notes, the exclusion count and any metric-specific notes."""
    notes = list(pair.notes)
    ex = pair.exclusion_note()
    if ex:
        notes.append(ex)
    return notes + [n for n in extra_notes if n]
