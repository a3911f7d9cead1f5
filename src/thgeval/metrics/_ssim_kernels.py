"""Compiled SSIM (numba): the moment maps filtered row by row and turned into SSIM and
contrast-structure sums in one pass per channel pair, never stored whole. Float32 per pixel,
as pytorch-msssim computes it; the sums in float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ROW_BLOCK = 8  # output rows filtered vertically per plane before moving to the next plane


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
    if ph == 0 and pw == 0:  # even sides: no padding, no bounds checks
        for i in range(oh):
            top, bottom, o = x[2 * i], x[2 * i + 1], out[i]
            for j in range(ow):
                o[j] = quarter * (((np.float32(top[2 * j]) + np.float32(bottom[2 * j])) + np.float32(top[2 * j + 1]))
                                  + np.float32(bottom[2 * j + 1]))
        return out
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


@njit(cache=True, nogil=True, inline="always")
def _centred_moments(x, y, off):
    """x − off, y − off, their squares' sum and their product, as float32 planes."""
    h, w = x.shape
    f = np.float32
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
    return a, b, sq, pr


@njit(cache=True, nogil=True, inline="always")
def _row_buffers(n):
    """Four float32 row buffers of length n."""
    return np.empty(n, np.float32), np.empty(n, np.float32), np.empty(n, np.float32), np.empty(n, np.float32)


@njit(cache=True, nogil=True, inline="always")
def _add_ssim_row(ha, hb, hq, hp, scale, off, k_cov, k_c1, k_c2, k_norm, cs_row, s_row, cs_col, s_col):
    """One output row: window sums (times ``scale``) → SSIM and contrast-structure terms in
    float32, added to the float64 column sums. Two loops, so each vectorises fully."""
    two = np.float32(2.0)
    for c in range(ha.shape[0]):
        mx, my, mq, mp = ha[c] * scale, hb[c] * scale, hq[c] * scale, hp[c] * scale
        cs = (k_cov * (mp - mx * my) + k_c2) / (k_norm * (mq - mx * mx - my * my) + k_c2)
        sx, sy = mx + off, my + off
        lum = (two * sx * sy + k_c1) / (sx * sx + sy * sy + k_c1)
        cs_row[c] = cs
        s_row[c] = lum * cs
    for c in range(ha.shape[0]):
        cs_col[c] += cs_row[c]
        s_col[c] += s_row[c]


@njit(cache=True, nogil=True, inline="always")
def _vertical(p, r, out, g):
    """Rows r..r+n−1 of plane ``p`` under the window ``g`` (n taps), into ``out``."""
    g0 = g[0]
    for c in range(out.shape[0]):
        out[c] = g0 * p[r, c]
    for k in range(1, g.shape[0]):
        gk = g[k]
        for c in range(out.shape[0]):
            out[c] += gk * p[r + k, c]


@njit(cache=True, nogil=True, inline="always")
def _horizontal(v, out, g):
    """Columns c..c+n−1 of row ``v`` under the window ``g``, for every c of ``out``."""
    g0 = g[0]
    for c in range(out.shape[0]):
        out[c] = g0 * v[c]
    for k in range(1, g.shape[0]):
        gk = g[k]
        for c in range(out.shape[0]):
            out[c] += gk * v[c + k]


@njit(cache=True, nogil=True, inline="always")
def _vertical11(p, r, out, g0, g1, g2, g3, g4, g5):
    """Rows r..r+10 of plane ``p`` under a symmetric 11-tap window, into ``out``: the taps
    written out and paired, so each value is accumulated in a register."""
    x0, x1, x2, x3, x4, x5 = p[r], p[r + 1], p[r + 2], p[r + 3], p[r + 4], p[r + 5]
    x6, x7, x8, x9, x10 = p[r + 6], p[r + 7], p[r + 8], p[r + 9], p[r + 10]
    for c in range(out.shape[0]):
        out[c] = (g0 * (x0[c] + x10[c]) + g1 * (x1[c] + x9[c]) + g2 * (x2[c] + x8[c])
                  + g3 * (x3[c] + x7[c]) + g4 * (x4[c] + x6[c]) + g5 * x5[c])


@njit(cache=True, nogil=True, inline="always")
def _horizontal11(v, out, g0, g1, g2, g3, g4, g5):
    """Columns c..c+10 of row ``v`` under a symmetric 11-tap window, for every c of ``out``."""
    for c in range(out.shape[0]):
        out[c] = (g0 * (v[c] + v[c + 10]) + g1 * (v[c + 1] + v[c + 9]) + g2 * (v[c + 2] + v[c + 8])
                  + g3 * (v[c + 3] + v[c + 7]) + g4 * (v[c + 4] + v[c + 6]) + g5 * v[c + 5])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _ssim_means(x, y, g, c1, c2, cov_norm, offset, eleven):
    """:func:`ssim_means`; ``eleven`` (a constant where it is inlined) picks the written-out
    11-tap filtering, so each copy's row loop has no branch."""
    h, w = x.shape
    n = g.shape[0]
    oh, ow = h - n + 1, w - n + 1
    f = np.float32
    off = f(offset)
    gf = g.astype(np.float32)
    scale = f(1.0)
    if np.all(g == g[0]):
        # A box: plain sums, scaled once at the end. On integer-valued (centred) frames every
        # partial sum of values, squares and products is an exact float32 integer, so the
        # window means carry one rounding, as OpenCV's box filter gives scikit-image's.
        gf[:] = 1.0
        scale = f(g[0] * g[0])
    g0, g1, g2, g3, g4, g5 = (gf[0], gf[1], gf[2], gf[3], gf[4], gf[5]) if eleven else (f(0), f(0), f(0), f(0),
                                                                                         f(0), f(0))
    a, b, sq, pr = _centred_moments(x, y, off)
    ha, hb, hq, hp = _row_buffers(ow)
    cs_row, s_row = np.empty(ow, np.float32), np.empty(ow, np.float32)
    s_col = np.zeros(ow, np.float64)
    cs_col = np.zeros(ow, np.float64)
    k_cov, k_c1, k_c2, k_norm = f(2.0 * cov_norm), f(c1), f(c2), f(cov_norm)
    if eleven:
        # Blocks of output rows, one plane at a time: the block's 10 + ROW_BLOCK input rows of
        # a plane stay in L1 while its vertical pass reads each of them up to 11 times
        # (row by row over all four planes, they came from L2 every time: ≈ 10 % slower).
        vert = np.empty((4, ROW_BLOCK, w), np.float32)
        for r0 in range(0, oh, ROW_BLOCK):
            rows = min(ROW_BLOCK, oh - r0)
            for k in range(rows):
                _vertical11(a, r0 + k, vert[0, k], g0, g1, g2, g3, g4, g5)
            for k in range(rows):
                _vertical11(b, r0 + k, vert[1, k], g0, g1, g2, g3, g4, g5)
            for k in range(rows):
                _vertical11(sq, r0 + k, vert[2, k], g0, g1, g2, g3, g4, g5)
            for k in range(rows):
                _vertical11(pr, r0 + k, vert[3, k], g0, g1, g2, g3, g4, g5)
            for k in range(rows):
                _horizontal11(vert[0, k], ha, g0, g1, g2, g3, g4, g5)
                _horizontal11(vert[1, k], hb, g0, g1, g2, g3, g4, g5)
                _horizontal11(vert[2, k], hq, g0, g1, g2, g3, g4, g5)
                _horizontal11(vert[3, k], hp, g0, g1, g2, g3, g4, g5)
                _add_ssim_row(ha, hb, hq, hp, scale, off, k_cov, k_c1, k_c2, k_norm, cs_row, s_row, cs_col, s_col)
        return s_col.sum() / (oh * ow), cs_col.sum() / (oh * ow)
    va, vb, vq, vp = _row_buffers(w)  # vertical pass, then horizontal pass and SSIM terms
    for r in range(oh):
        _vertical(a, r, va, gf)
        _vertical(b, r, vb, gf)
        _vertical(sq, r, vq, gf)
        _vertical(pr, r, vp, gf)
        _horizontal(va, ha, gf)
        _horizontal(vb, hb, gf)
        _horizontal(vq, hq, gf)
        _horizontal(vp, hp, gf)
        _add_ssim_row(ha, hb, hq, hp, scale, off, k_cov, k_c1, k_c2, k_norm, cs_row, s_row, cs_col, s_col)
    return s_col.sum() / (oh * ow), cs_col.sum() / (oh * ow)


@njit(cache=True, nogil=True, error_model="numpy")
def ssim_means(x, y, g, c1, c2, cov_norm, offset):
    """Means of the SSIM map and of its contrast-structure map of two 2-D planes (any real
    type, strided views too) under the separable window ``g``, over the window-valid region
    (the region scikit-image averages and pytorch-msssim filters): ((h−n+1)·(w−n+1) pixels).

    One pass that never writes a full filtered map: the centred planes and their products
    are made once, then each output row is filtered vertically into four row buffers (for the
    11-tap window, a block of rows at a time) and horizontally into four more, and its SSIM
    terms are added to per-column float64 sums —
    every inner loop runs over contiguous columns, so it compiles to SIMD code. A symmetric
    11-tap window (the default σ = 1.5) has its taps written out, which halves the memory
    traffic. Float32 per pixel, as pytorch-msssim computes it; values are centred at
    ``offset`` so that E[x²] − E[x]² keeps its precision in float32.
    """
    n = g.shape[0]
    if n == 11 and np.all(g == g[::-1]):
        return _ssim_means(x, y, g, c1, c2, cov_norm, offset, True)
    return _ssim_means(x, y, g, c1, c2, cov_norm, offset, False)


@njit(cache=True, nogil=True)
def avg_pool2_channels(frame):
    """:func:`avg_pool2` of every channel of an H×W×C frame: (C, H', W') float32, the same
    bits. Three-channel frames with even sides are pooled in one pass over the interleaved
    pixels (no channel split: about a fifth of splitting then pooling)."""
    h, w, nc = frame.shape
    if nc != 3 or h % 2 or w % 2:
        first = avg_pool2(frame[:, :, 0])
        out = np.empty((nc, first.shape[0], first.shape[1]), np.float32)
        out[0] = first
        for ch in range(1, nc):
            out[ch] = avg_pool2(frame[:, :, ch])
        return out
    oh, ow = h // 2, w // 2
    out = np.empty((3, oh, ow), np.float32)
    f, quarter = np.float32, np.float32(0.25)
    rows = frame.reshape(h, w * 3)
    for i in range(oh):
        top, bottom = rows[2 * i], rows[2 * i + 1]
        o0, o1, o2 = out[0, i], out[1, i], out[2, i]
        for j in range(ow):
            b = 6 * j  # channel c of the 2×2 cell: top[b + c], bottom[b + c], top[b + 3 + c], bottom[b + 3 + c]
            o0[j] = quarter * (((f(top[b]) + f(bottom[b])) + f(top[b + 3])) + f(bottom[b + 3]))
            o1[j] = quarter * (((f(top[b + 1]) + f(bottom[b + 1])) + f(top[b + 4])) + f(bottom[b + 4]))
            o2[j] = quarter * (((f(top[b + 2]) + f(bottom[b + 2])) + f(top[b + 5])) + f(bottom[b + 5]))
    return out


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _coarse_from_scale1(px, py, g, levels, c1, c2, offset):
    """MS-SSIM's scales 1 … levels−1 of one channel pair from scale 1 (``px``, ``py``, already
    pooled once): each further scale 2×2 average-pooled (:func:`avg_pool2`), then its mean SSIM
    and mean contrast-structure term over the window-valid region; (levels − 1, 2) float64."""
    out = np.empty((levels - 1, 2))
    for level in range(levels - 1):
        if level > 0:
            px, py = avg_pool2(px), avg_pool2(py)
        out[level, 0], out[level, 1] = ssim_means(px, py, g, c1, c2, 1.0, offset)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def coarse_scale_stats_frames(x, y, g, levels, c1, c2, offset):
    """MS-SSIM's scales 1 … levels−1 of every channel pair of two H×W×C frames:
    (C, levels − 1, 2) float64, mean SSIM and mean contrast-structure term per scale. The
    first pooling reads the interleaved frames (:func:`avg_pool2_channels`); one call per
    frame pair instead of a pooling and a filtering call per scale and channel."""
    px, py = avg_pool2_channels(x), avg_pool2_channels(y)
    out = np.empty((px.shape[0], levels - 1, 2))
    for ch in range(px.shape[0]):
        out[ch] = _coarse_from_scale1(px[ch], py[ch], g, levels, c1, c2, offset)
    return out
