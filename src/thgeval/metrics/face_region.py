"""Fidelity on the aligned face: PSNR and SSIM of 256×256 face crops, the protocol most THG
papers actually use (the background and the frame size then do not count).

Both clips are cropped with the *GT's* smoothed similarity transform onto the canonical
face template (:func:`thgeval.face.similarity_transforms`, the transform of ``thgeval align``),
so pixels correspond: a generated head that moved or changed size is penalised, as it is on
the full frame. Frames before the GT's first or after its last detected face have no
transform and are excluded and counted; the per-frame functions are those of
:mod:`thgeval.metrics.fidelity`.
"""

from __future__ import annotations

import numpy as np

from ..errors import MetricSkipped
from .fidelity import psnr, ssim
from .registry import CLIP, MEAN_OF_CLIP_MEANS, ClipValue, Metric, Variant, register
from .sample import GT

FACE_SIZE = 256


def aligned_face_pair(sample, size: int = FACE_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(pred crops, GT crops, frame mask, notes) of a sample: T×size×size×3 uint8 each, both
    warped with GT's transforms on the comparison timeline (memoised per size)."""
    from ..face import similarity_transforms

    def build():
        c = sample.conformed()
        n = len(c.gt)
        track = sample.face(GT).take(np.arange(n))
        if not track.valid.any():
            raise MetricSkipped("no face detected in any GT frame: nothing to align")
        m = similarity_transforms(track, size)
        # the transforms map GT's native pixels; the conformed frames may be scaled
        sx, sy = c.gt_scale
        m[:, :, 0] /= sx
        m[:, :, 1] /= sy
        ok = np.isfinite(m).all(axis=(1, 2))
        from ..face import warp_frames

        notes = list(c.notes)
        if not ok.all():
            notes.append(f"{int((~ok).sum())} of {n} frames outside the GT face track excluded")
        return warp_frames(c.pred[ok], m[ok], size), warp_frames(c.gt[ok], m[ok], size), ok, notes

    return sample.memo(("aligned-face", size), build)


def _face_clip(fn, sample, *, size: int, **params) -> ClipValue:
    p, g, ok, notes = aligned_face_pair(sample, size)
    if not len(p):
        raise MetricSkipped("no frame inside the GT face track")
    values = np.asarray(fn(p, g, **params), np.float64).reshape(-1)
    series = np.full(len(ok), np.nan)
    series[ok] = values
    return ClipValue(float(values.mean()), len(values), series=series.astype(np.float32), notes=notes,
                     extra={"crop": f"{size}x{size} similarity-aligned on GT"})


def _psnr_face(sample, **p) -> ClipValue:
    return _face_clip(psnr, sample, **p)


def _ssim_face(sample, **p) -> ClipValue:
    return _face_clip(ssim, sample, **p)


_SHARED = dict(higher_is_better=True, needs=frozenset({"gt", "face"}), kind=CLIP, version="1", family="face")
_WHERE = f"on {FACE_SIZE}² face crops aligned by GT's similarity transform (both clips, thgeval align's crop)"

register(Metric(
    name="psnr_face", title="PSNR (face)", clip_fn=_psnr_face, unit="dB", value_range="≥ 0 (∞ when identical)",
    variants={"aligned256": Variant(
        "aligned256", {"size": FACE_SIZE, "data_range": 255.0},
        reference=f"psnr@skimage {_WHERE}", aggregation=MEAN_OF_CLIP_MEANS)},
    default_variant="aligned256",
    description="PSNR of the aligned face region", **_SHARED))
register(Metric(
    name="ssim_face", title="SSIM (face)", clip_fn=_ssim_face, value_range="[-1, 1]",
    variants={"aligned256": Variant(
        "aligned256", {"size": FACE_SIZE, "window": "gaussian"},
        reference=f"ssim@skimage-gaussian {_WHERE}", aggregation=MEAN_OF_CLIP_MEANS)},
    default_variant="aligned256",
    description="SSIM of the aligned face region", **_SHARED))
