"""Compiled SSIM map arithmetic (numba): one pass over the five filtered moment maps instead
of a dozen NumPy temporaries. Float32 per pixel, as pytorch-msssim computes it; the sums in
float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def ssim_sums(ux, uy, usq, uxy, crop, c1, c2, cov_norm, offset):
    """Sums of the SSIM map and of its contrast-structure map over the window-valid region,
    from the filtered maps of x, y, x² + y² and xy.

    The moment maps are of frames shifted by ``-offset`` (float32 filtering of centred values
    keeps E[x²] − E[x]² accurate); the luminance term adds it back.
    """
    h, w = ux.shape
    f = np.float32
    k_cov, k_c1, k_c2, k_off = f(2.0 * cov_norm), f(c1), f(c2), f(offset)
    k_norm = f(cov_norm)
    cs_row = np.empty(w, np.float32)
    s_row = np.empty(w, np.float32)
    cs_sum = 0.0
    s_sum = 0.0
    for r in range(crop, h - crop):
        for c in range(crop, w - crop):
            mx, my = ux[r, c], uy[r, c]
            cs = (k_cov * (uxy[r, c] - mx * my) + k_c2) / (k_norm * (usq[r, c] - mx * mx - my * my) + k_c2)
            sx, sy = mx + k_off, my + k_off
            lum = (f(2.0) * sx * sy + k_c1) / (sx * sx + sy * sy + k_c1)
            cs_row[c] = cs
            s_row[c] = lum * cs
        for c in range(crop, w - crop):
            cs_sum += cs_row[c]
            s_sum += s_row[c]
    return s_sum, cs_sum


@njit(cache=True, nogil=True)
def avg_pool2(x):
    """2×2 average pooling with ``side % 2`` zeros padded on both ends of each axis, the zeros
    counted in the mean (PyTorch ``avg_pool2d(kernel_size=2, padding=s % 2)``), in float32
    (any input type is converted first, as ``x.astype(np.float32)`` would)."""
    h, w = x.shape
    ph, pw = h % 2, w % 2
    oh, ow = (h + 2 * ph - 2) // 2 + 1, (w + 2 * pw - 2) // 2 + 1
    out = np.empty((oh, ow), np.float32)
    zero, quarter = np.float32(0), np.float32(0.25)
    for i in range(oh):
        r0, r1 = 2 * i - ph, 2 * i + 1 - ph
        for j in range(ow):
            c0, c1 = 2 * j - pw, 2 * j + 1 - pw
            a = np.float32(x[r0, c0]) if 0 <= r0 < h and 0 <= c0 < w else zero
            b = np.float32(x[r1, c0]) if 0 <= r1 < h and 0 <= c0 < w else zero
            c = np.float32(x[r0, c1]) if 0 <= r0 < h and 0 <= c1 < w else zero
            d = np.float32(x[r1, c1]) if 0 <= r1 < h and 0 <= c1 < w else zero
            out[i, j] = quarter * (((a + b) + c) + d)
    return out
