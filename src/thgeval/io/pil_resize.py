"""PIL's resampling of 32-bit float images (``Image.fromarray(x, mode="F").resize(...)``) in
NumPy.

Codes that resize through PIL in float mode (clean-fid's ``make_resizer("PIL", False, ...)``,
copied by DisCo's ``tool/metrics/resize.py``) get PIL's separable, antialiased filters: the
filter support is widened by the downscale factor, weights are normalised per output pixel,
the horizontal pass runs first and its result is stored as float32 before the vertical pass
(Pillow ``src/libImaging/Resample.c``: ``precompute_coeffs``,
``ImagingResampleHorizontal_32bpc``). Accumulation is float64 as there.
"""

from __future__ import annotations


import numpy as np


def _bicubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic convolution with a = −0.5, support 2 (PIL's ``bicubic_filter``)
    a = -0.5
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


_FILTERS = {"bicubic": (_bicubic, 2.0)}


def pil_weights(n_in: int, n_out: int, filt: str = "bicubic") -> np.ndarray:
    """(n_out, n_in) float64 matrix of PIL's resampling weights along one axis (box = whole image)."""
    fn, support = _FILTERS[filt]
    scale = n_in / n_out
    fscale = max(scale, 1.0)  # widen the kernel when shrinking: antialiasing
    support *= fscale
    w = np.zeros((n_out, n_in))
    for xx in range(n_out):
        center = (xx + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)  # C casts truncate; negatives clamp to 0 anyway
        hi = min(int(center + support + 0.5), n_in)
        k = fn((np.arange(lo, hi) - center + 0.5) / fscale)
        s = k.sum()
        w[xx, lo:hi] = k / s if s != 0 else k
    return w


def pil_resize_float(images: np.ndarray, size: tuple[int, int], filt: str = "bicubic") -> np.ndarray:
    """``…×H×W×C`` images resized to ``size = (width, height)`` as PIL resizes each channel
    as a float32 ``"F"`` image; returns float32."""
    x = np.asarray(images, np.float32)
    h, w = x.shape[-3], x.shape[-2]
    ow, oh = size
    if ow != w:  # PIL skips a pass whose size does not change
        x = np.einsum("ow,...hwc->...hoc", pil_weights(w, ow, filt), x.astype(np.float64)).astype(np.float32)
    if oh != h:
        x = np.einsum("oh,...hwc->...owc", pil_weights(h, oh, filt), x.astype(np.float64)).astype(np.float32)
    return x

