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


@njit(cache=True, nogil=True, error_model="numpy")
def gaussian_ssim_sums(x, y, g, c1, c2, cov_norm, offset):
    """Sums of the SSIM map and of its contrast-structure map of two 2-D planes (any real
    type, strided views too) under the separable window ``g``, over the window-valid region
    (the region scikit-image averages and pytorch-msssim filters): ((h−n+1)·(w−n+1) pixels).

    One pass that never writes a full filtered map: the centred planes and their products
    are made once, then each output row is filtered vertically into four row buffers and
    horizontally into four more, and its SSIM terms are added to per-column float64 sums —
    every inner loop runs over contiguous columns, so it compiles to SIMD code. Float32 per
    pixel, as pytorch-msssim computes it; values are centred at ``offset`` so that
    E[x²] − E[x]² keeps its precision in float32.
    """
    h, w = x.shape
    n = g.shape[0]
    oh, ow = h - n + 1, w - n + 1
    f = np.float32
    off = f(offset)
    gf = g.astype(np.float32)
    a = np.empty((h, w), np.float32)
    b = np.empty((h, w), np.float32)
    sq = np.empty((h, w), np.float32)
    pr = np.empty((h, w), np.float32)
    for i in range(h):
        for j in range(w):
            u = f(x[i, j]) - off
            v = f(y[i, j]) - off
            a[i, j] = u
            b[i, j] = v
            sq[i, j] = u * u + v * v
            pr[i, j] = u * v
    va = np.empty(w, np.float32)
    vb = np.empty(w, np.float32)
    vq = np.empty(w, np.float32)
    vp = np.empty(w, np.float32)
    ha = np.empty(ow, np.float32)
    hb = np.empty(ow, np.float32)
    hq = np.empty(ow, np.float32)
    hp = np.empty(ow, np.float32)
    s_col = np.zeros(ow, np.float64)
    cs_col = np.zeros(ow, np.float64)
    k_cov, k_c1, k_c2, k_norm, two = f(2.0 * cov_norm), f(c1), f(c2), f(cov_norm), f(2.0)
    for r in range(oh):
        g0 = gf[0]
        for c in range(w):
            va[c] = g0 * a[r, c]
            vb[c] = g0 * b[r, c]
            vq[c] = g0 * sq[r, c]
            vp[c] = g0 * pr[r, c]
        for k in range(1, n):
            gk = gf[k]
            for c in range(w):
                va[c] += gk * a[r + k, c]
                vb[c] += gk * b[r + k, c]
                vq[c] += gk * sq[r + k, c]
                vp[c] += gk * pr[r + k, c]
        for c in range(ow):
            ha[c] = g0 * va[c]
            hb[c] = g0 * vb[c]
            hq[c] = g0 * vq[c]
            hp[c] = g0 * vp[c]
        for k in range(1, n):
            gk = gf[k]
            for c in range(ow):
                ha[c] += gk * va[c + k]
                hb[c] += gk * vb[c + k]
                hq[c] += gk * vq[c + k]
                hp[c] += gk * vp[c + k]
        for c in range(ow):
            mx, my = ha[c], hb[c]
            cs = (k_cov * (hp[c] - mx * my) + k_c2) / (k_norm * (hq[c] - mx * mx - my * my) + k_c2)
            sx, sy = mx + off, my + off
            lum = (two * sx * sy + k_c1) / (sx * sx + sy * sy + k_c1)
            cs_col[c] += cs
            s_col[c] += lum * cs
    return s_col.sum(), cs_col.sum()


@njit(cache=True, nogil=True, error_model="numpy")
def gaussian11_ssim_sums(x, y, g, c1, c2, cov_norm, offset):
    """:func:`gaussian_ssim_sums` for a symmetric 11-tap window (σ = 1.5, the SSIM default),
    with the taps written out: each filtered value is accumulated in a register over its 11
    rows or columns (symmetric taps paired) instead of in a row buffer per tap, which halves
    the memory traffic of the filtering.
    """
    h, w = x.shape
    oh, ow = h - 10, w - 10
    f = np.float32
    off = f(offset)
    g0, g1, g2, g3, g4, g5 = f(g[0]), f(g[1]), f(g[2]), f(g[3]), f(g[4]), f(g[5])
    a = np.empty((h, w), np.float32)
    b = np.empty((h, w), np.float32)
    sq = np.empty((h, w), np.float32)
    pr = np.empty((h, w), np.float32)
    for i in range(h):
        for j in range(w):
            u = f(x[i, j]) - off
            v = f(y[i, j]) - off
            a[i, j] = u
            b[i, j] = v
            sq[i, j] = u * u + v * v
            pr[i, j] = u * v
    va = np.empty(w, np.float32)
    vb = np.empty(w, np.float32)
    vq = np.empty(w, np.float32)
    vp = np.empty(w, np.float32)
    s_col = np.zeros(ow, np.float64)
    cs_col = np.zeros(ow, np.float64)
    k_cov, k_c1, k_c2, k_norm, two = f(2.0 * cov_norm), f(c1), f(c2), f(cov_norm), f(2.0)
    for r in range(oh):
        for c in range(w):
            va[c] = g0 * (a[r + 0, c] + a[r + 10, c]) + g1 * (a[r + 1, c] + a[r + 9, c]) + g2 * (a[r + 2, c] + a[r + 8, c]) + g3 * (a[r + 3, c] + a[r + 7, c]) + g4 * (a[r + 4, c] + a[r + 6, c]) + g5 * a[r + 5, c]
        for c in range(w):
            vb[c] = g0 * (b[r + 0, c] + b[r + 10, c]) + g1 * (b[r + 1, c] + b[r + 9, c]) + g2 * (b[r + 2, c] + b[r + 8, c]) + g3 * (b[r + 3, c] + b[r + 7, c]) + g4 * (b[r + 4, c] + b[r + 6, c]) + g5 * b[r + 5, c]
        for c in range(w):
            vq[c] = g0 * (sq[r + 0, c] + sq[r + 10, c]) + g1 * (sq[r + 1, c] + sq[r + 9, c]) + g2 * (sq[r + 2, c] + sq[r + 8, c]) + g3 * (sq[r + 3, c] + sq[r + 7, c]) + g4 * (sq[r + 4, c] + sq[r + 6, c]) + g5 * sq[r + 5, c]
        for c in range(w):
            vp[c] = g0 * (pr[r + 0, c] + pr[r + 10, c]) + g1 * (pr[r + 1, c] + pr[r + 9, c]) + g2 * (pr[r + 2, c] + pr[r + 8, c]) + g3 * (pr[r + 3, c] + pr[r + 7, c]) + g4 * (pr[r + 4, c] + pr[r + 6, c]) + g5 * pr[r + 5, c]
        for c in range(ow):
            mx = g0 * (va[c + 0] + va[c + 10]) + g1 * (va[c + 1] + va[c + 9]) + g2 * (va[c + 2] + va[c + 8]) + g3 * (va[c + 3] + va[c + 7]) + g4 * (va[c + 4] + va[c + 6]) + g5 * va[c + 5]
            my = g0 * (vb[c + 0] + vb[c + 10]) + g1 * (vb[c + 1] + vb[c + 9]) + g2 * (vb[c + 2] + vb[c + 8]) + g3 * (vb[c + 3] + vb[c + 7]) + g4 * (vb[c + 4] + vb[c + 6]) + g5 * vb[c + 5]
            mq = g0 * (vq[c + 0] + vq[c + 10]) + g1 * (vq[c + 1] + vq[c + 9]) + g2 * (vq[c + 2] + vq[c + 8]) + g3 * (vq[c + 3] + vq[c + 7]) + g4 * (vq[c + 4] + vq[c + 6]) + g5 * vq[c + 5]
            mp = g0 * (vp[c + 0] + vp[c + 10]) + g1 * (vp[c + 1] + vp[c + 9]) + g2 * (vp[c + 2] + vp[c + 8]) + g3 * (vp[c + 3] + vp[c + 7]) + g4 * (vp[c + 4] + vp[c + 6]) + g5 * vp[c + 5]
            cs = (k_cov * (mp - mx * my) + k_c2) / (k_norm * (mq - mx * mx - my * my) + k_c2)
            sx, sy = mx + off, my + off
            lum = (two * sx * sy + k_c1) / (sx * sx + sy * sy + k_c1)
            cs_col[c] += cs
            s_col[c] += lum * cs
    return s_col.sum(), cs_col.sum()
