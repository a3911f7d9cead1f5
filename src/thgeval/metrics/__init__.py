"""Metrics: plain functions on arrays, plus the registry the run uses.

>>> from thgeval.metrics import ssim, psnr
"""

from .registry import (  # noqa: F401
    CLIP,
    FRAME,
    SET,
    ClipValue,
    SetValue,
    MEAN_OF_CLIP_MEANS,
    POOLED_FRAMES,
    Metric,
    MetricRef,
    Variant,
    all_metrics,
    all_variants,
    get_metric,
    register,
    resolve,
    resolve_list,
)
from .fidelity import ms_ssim, psnr, ssim  # noqa: F401,E402
from .sharpness import cpbd  # noqa: F401,E402
