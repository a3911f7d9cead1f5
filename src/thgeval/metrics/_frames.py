"""Shape rules shared by the per-frame metric functions.

A single image is (H, W) grey or (H, W, C) with C in {1, 3}; a batch of frames is
(T, H, W, C). Functions return a float for an image and a (T,) float64 array for a batch.
"""

from __future__ import annotations

import numpy as np


def as_batch(x, name: str = "image") -> tuple[np.ndarray, bool]:
    """Return ``(batch T×H×W×C, was_single)``; raises ValueError naming the bad shape."""
    x = np.asarray(x)
    if x.ndim == 2:
        return x[None, :, :, None], True
    if x.ndim == 3:
        if x.shape[-1] not in (1, 3):
            raise ValueError(
                f"{name} of shape {x.shape} is ambiguous: a single image is (H, W) or (H, W, C) "
                "with C in (1, 3); a batch of frames is (T, H, W, C)"
            )
        return x[None], True
    if x.ndim == 4:
        return x, False
    raise ValueError(f"{name} must be (H, W), (H, W, C) or (T, H, W, C); got shape {x.shape}")


def check_pair(pred, gt) -> tuple[np.ndarray, np.ndarray, bool]:
    """Batch both inputs and check they have equal shapes."""
    p, single = as_batch(pred, "pred")
    g, _ = as_batch(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt must have the same shape; got {np.shape(pred)} and {np.shape(gt)}")
    return p, g, single


def unbatch(values: np.ndarray, single: bool):
    values = np.asarray(values, dtype=np.float64)
    return float(values[0]) if single else values
