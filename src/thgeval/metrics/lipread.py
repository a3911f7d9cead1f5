"""Lip-reading agreement: how alike a lip reader finds a generated clip and its ground truth,
without transcripts (after KeySync's LipScore, Bigata et al. 2025).

A reader's per-frame visual speech features of the generated clip and of the GT clip (each at
the reader's 25 fps, each from its own face track) are compared frame by frame by cosine
similarity over their common length; the clip value is the mean, the set value the mean of
clip means (LipScore: Auto-AVSR encoder features, mean over frames, then over videos). The
variant names the reader: ``lipnet`` (GRID LipNet, built in) or any registered reader.
"""

from __future__ import annotations

import numpy as np

from ..errors import MetricSkipped
from .registry import CLIP, MEAN_OF_CLIP_MEANS, ClipValue, Metric, Variant, register


def feature_agreement(pred: np.ndarray, gt: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cosine similarity of per-frame features over the common length, and the series.

    Parameters
    ----------
    pred, gt : (T1, D) and (T2, D) feature arrays. Returns a value in [-1, 1] (1: the reader
    sees the same thing in every frame).
    """
    a, b = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (T, D) of equal D; got {a.shape} and {b.shape}")
    n = min(len(a), len(b))
    if n == 0:
        raise MetricSkipped("no frames to compare")
    a, b = a[:n], b[:n]
    denom = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.divide((a * b).sum(axis=1), denom, out=np.zeros(n), where=denom > 0)
    return float(cos.mean()), cos


def lipread_agreement_clip(sample, *, reader: str = "lipnet-grid-unseen") -> ClipValue:
    from ..nets.readers import get_reader

    rd = get_reader(reader)
    gt_path = sample.path("gt")
    fg = sample.shared(("reader-features", rd.name, str(gt_path)), lambda: rd.features_sample(sample, "gt"))
    fp = sample.memo(("reader-features", rd.name, "pred"), lambda: rd.features_sample(sample, "pred"))
    value, series = feature_agreement(fp, fg)
    notes = []
    if len(fp) != len(fg):
        notes.append(f"compared over the {min(len(fp), len(fg))} common frames (pred {len(fp)}, GT {len(fg)})")
    return ClipValue(value=value, n_frames=len(series), series=series.astype(np.float32), notes=notes,
                     extra={"reader": rd.name})


register(Metric(
    name="lipread_agreement", title="LipRead agr.", higher_is_better=True, needs=frozenset({"gt", "face"}),
    kind=CLIP, clip_fn=lipread_agreement_clip, family="lipread", value_range="[-1, 1]",
    variants={"lipnet": Variant("lipnet", {"reader": "lipnet-grid-unseen"},
                                "cosine of LipNet (GRID) second-GRU features, per frame, mean over frames then clips "
                                "(as KeySync's LipScore with Auto-AVSR features)", MEAN_OF_CLIP_MEANS,
                                weights=("lipnet-grid-unseen",))},
    default_variant="lipnet", version="1", requires_modules=("torch",), aliases=("lipscore",),
    description="transcript-free lip-reading similarity of generated and GT clips",
))
