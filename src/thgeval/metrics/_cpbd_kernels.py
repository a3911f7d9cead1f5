"""Compiled inner loops of CPBD (numba): one pass per step instead of a dozen NumPy
temporaries, with each pixel's arithmetic in the same order and precision as the code they
re-state (SciPy's ``correlate1d``, scikit-image's Sobel and bilinear non-maximum suppression,
python-cpbd's edge-width loops), so the results stay bit-identical to the references.

``nogil``: the run engine may compute a chunk's metrics in threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def luma_pil(rgb, out):
    """PIL ``convert("L")``: (19595 R + 38470 G + 7471 B + 0x8000) >> 16, per pixel, into
    ``out`` (uint8, or float64 for CPBD's input). Each row is read as one flat run of bytes,
    which vectorises (the sums fit in int32)."""
    h, w = rgb.shape[0], rgb.shape[1]
    flat = rgb.reshape(h, w * 3)
    for r in range(h):
        row, o = flat[r], out[r]
        for c in range(w):
            o[c] = (np.int32(row[3 * c]) * 19595 + np.int32(row[3 * c + 1]) * 38470
                    + np.int32(row[3 * c + 2]) * 7471 + 0x8000) >> 16
    return out


@njit(**_JIT, inline="always")
def _smooth_vertical_row(src, i, o, fw, acc):
    """Row ``i`` of SciPy's symmetric ``correlate1d`` along axis 0 with zero padding, into
    ``o`` (rounded to its type): per output ``x[0]·w[0]`` then ``(x[−k] + x[k])·w[k]`` from the
    outermost tap inwards, in double. (A tap outside the image adds ``(0 + x)·w``, which is
    ``x·w``.) Tap-outer, column-inner loops, so they vectorise; each output sees the same
    sequence."""
    h, w = src.shape
    r = fw.shape[0] // 2
    if r == 4 and 4 <= i < h - 4:  # σ = 1 (Canny's default), interior row: taps written out
        f0, f1, f2, f3, f4 = fw[0], fw[1], fw[2], fw[3], fw[4]
        m4, m3, m2, m1, x0 = src[i - 4], src[i - 3], src[i - 2], src[i - 1], src[i]
        p1, p2, p3, p4 = src[i + 1], src[i + 2], src[i + 3], src[i + 4]
        for c in range(w):
            o[c] = ((((np.float64(x0[c]) * f4 + (np.float64(m4[c]) + np.float64(p4[c])) * f0)
                      + (np.float64(m3[c]) + np.float64(p3[c])) * f1)
                     + (np.float64(m2[c]) + np.float64(p2[c])) * f2)
                    + (np.float64(m1[c]) + np.float64(p1[c])) * f3)
        return
    for c in range(w):
        acc[c] = np.float64(src[i, c]) * fw[r]
    for k in range(r, 0, -1):
        wk = fw[r - k]
        if i - k >= 0 and i + k < h:
            for c in range(w):
                acc[c] += (np.float64(src[i - k, c]) + np.float64(src[i + k, c])) * wk
        elif i - k >= 0:
            for c in range(w):
                acc[c] += np.float64(src[i - k, c]) * wk
        elif i + k < h:
            for c in range(w):
                acc[c] += np.float64(src[i + k, c]) * wk
        else:
            for c in range(w):
                acc[c] += 0.0 * wk
    for c in range(w):
        o[c] = acc[c]


@njit(**_JIT, inline="always")
def _smooth_horizontal_row(src, o, fw, d, line, acc):
    """The same along the row ``src``; each output (rounded to ``o``'s type) is then divided by
    ``d`` in that type, as a separate ``out / divisor`` would. ``line`` holds the row with r
    zeros on each side (the zeros are never written)."""
    w = src.shape[0]
    r = fw.shape[0] // 2
    for c in range(w):
        line[r + c] = src[c]
    if r == 4:  # σ = 1: taps written out, in the same order
        f0, f1, f2, f3, f4 = fw[0], fw[1], fw[2], fw[3], fw[4]
        for c in range(w):
            o[c] = ((((line[c + 4] * f4 + (line[c] + line[c + 8]) * f0)
                      + (line[c + 1] + line[c + 7]) * f1)
                     + (line[c + 2] + line[c + 6]) * f2)
                    + (line[c + 3] + line[c + 5]) * f3)
    else:
        for c in range(w):
            acc[c] = line[r + c] * fw[r]
        for k in range(r, 0, -1):
            wk = fw[r - k]
            for c in range(w):
                acc[c] += (line[r + c - k] + line[r + c + k]) * wk
        for c in range(w):
            o[c] = acc[c]
    for c in range(w):
        o[c] = o[c] / d[c]


@njit(**_JIT, inline="always")
def _smooth_row(image, i, fw, divisor, tmp, line, acc, o):
    """Row ``i`` of :func:`gaussian_zero` into ``o``: axis 0, rounded to the image's type in
    ``tmp``, then axis 1 and the division."""
    _smooth_vertical_row(image, i, tmp, fw, acc)
    _smooth_horizontal_row(tmp, o, fw, divisor[i], line, acc)


@njit(**_JIT)
def gaussian_zero(image, fw, divisor):
    """``ndi.gaussian_filter(image, σ, mode="constant", cval=0) / divisor`` with the 1-D weights
    ``fw`` (symmetric), axis 0 then axis 1, each pass rounded to the image's type, then the
    division in that type (``divisor`` of the image's shape and type); row by row."""
    h, w = image.shape
    r = fw.shape[0] // 2
    out = np.empty_like(image)
    tmp = np.empty(w, image.dtype)
    line = np.zeros(w + 2 * r, np.float64)
    acc = np.empty(w, np.float64)
    for i in range(h):
        _smooth_row(image, i, fw, divisor, tmp, line, acc, out[i])
    return out


@njit(**_JIT, inline="always")
def _column_differences(x, e):
    """[-1, 0, 1] along the row ``x`` in its type, widened, the ends clamped."""
    w = x.shape[0]
    for c in range(1, w - 1):
        e[c] = np.float64(x[c + 1] - x[c - 1])
    e[0] = np.float64(x[min(1, w - 1)] - x[0])
    e[w - 1] = np.float64(x[w - 1] - x[max(w - 2, 0)])


@njit(**_JIT, inline="always")
def _gradient_row(up, mid, dn, d, e, irow, jrow, mrow):
    """scikit-image's Sobel gradients of one row (``up``/``dn``: the rows above and below,
    the image's edge row repeated at its border): [-1, 0, 1] across rows then [1, 2, 1]
    across columns, and the reverse, summed in double and rounded to the row type; then the
    magnitude in that type. ``d``: w + 2 scratch; ``e``: 3 × w scratch."""
    w = mid.shape[0]
    for c in range(w):
        d[c + 1] = np.float64(dn[c] - up[c])
    d[0], d[w + 1] = d[1], d[w]
    for c in range(w):
        irow[c] = 2.0 * d[c + 1] + (d[c] + d[c + 2])
    _column_differences(up, e[0])
    _column_differences(mid, e[1])
    _column_differences(dn, e[2])
    for c in range(w):
        jrow[c] = 2.0 * e[1, c] + (e[0, c] + e[2, c])
    for c in range(w):
        a, b = irow[c], jrow[c]
        mrow[c] = np.sqrt(a * a + b * b)


@njit(**_JIT, inline="always")
def _suppress_row(up, mid, dn, irow, jrow, krow, low):
    """Bilinear non-maximum suppression of one row's interior pixels at least ``low`` (``up``,
    ``mid``, ``dn``: magnitudes of the rows above, at and below); ``krow``'s ends are left as
    they are. Branch-free (selects over unconditional loads), so the loop vectorises."""
    for c in range(1, mid.shape[0] - 1):
        m = mid[c]
        i, j = irow[c], jrow[c]
        north, south, east, west = up[c], dn[c], mid[c + 1], mid[c - 1]
        ne, nw_, se, sw = up[c + 1], up[c - 1], dn[c + 1], dn[c - 1]
        ai, aj = abs(i), abs(j)
        same = (i <= 0) == (j <= 0)
        mostly_j = (ai < aj) | (same & (ai == aj))
        wt = (ai if mostly_j else aj) / (aj if mostly_j else ai)
        n11 = east if mostly_j else (south if same else north)
        n21 = west if mostly_j else (north if same else south)
        n12 = se if same else ne
        n22 = nw_ if same else sw
        # Cython there: n·w in the image's type, (1.0 − w) and the rest in double
        rest = 1.0 - np.float64(wt)
        krow[c] = ((m >= low) & (np.float64(n12 * wt) + n11 * rest <= m)
                   & (np.float64(n22 * wt) + n21 * rest <= m))


@njit(**_JIT)
def sobel_nms(smoothed, low, high):
    """scikit-image's Canny after smoothing: Sobel gradients (symmetric padding, [-1, 0, 1] then
    [1, 2, 1], summed in double and rounded to the image's type), magnitude, and bilinear
    non-maximum suppression of interior pixels at least ``low``.

    Returns (candidates, strong, any_weak): candidates is scikit-image's ``low_mask`` before
    hysteresis (the border is never one); strong the candidates with magnitude ≥ ``high``;
    any_weak whether some candidate is below it (then hysteresis has work to do).
    """
    h, w = smoothed.shape
    x = smoothed
    isob = np.empty_like(x)
    jsob = np.empty_like(x)
    mag = np.empty_like(x)
    d = np.empty(w + 2, np.float64)  # row differences, one clamped column on each side
    e = np.empty((3, w), np.float64)  # column differences of the rows above, at and below
    for r in range(h):
        _gradient_row(x[max(r - 1, 0)], x[r], x[min(r + 1, h - 1)], d, e, isob[r], jsob[r], mag[r])
    keep = np.zeros((h, w), np.bool_)
    for r in range(1, h - 1):
        _suppress_row(mag[r - 1], mag[r], mag[r + 1], isob[r], jsob[r], keep[r], low)
    strong, any_weak = _strong(keep, mag, high)
    return keep, strong, any_weak


@njit(**_JIT)
def _strong(keep, mag, high):
    """Candidates at least ``high`` (magnitudes are never NaN), and whether any is not. Its own
    function: folded into the suppression loop it stops that loop from vectorising."""
    h, w = keep.shape
    strong = np.zeros((h, w), np.bool_)
    n_weak = 0
    for r in range(h):
        for c in range(w):
            k = keep[r, c]
            s = k & (mag[r, c] >= high)
            strong[r, c] = s
            n_weak += np.int64(k) - np.int64(s)
    return strong, n_weak > 0


@njit(**_JIT)
def proven_edge_blocks(image, fw, divisor, low, high, block, min_edges):
    """Blocks shown to hold at least ``min_edges`` Canny edges without running Canny on the
    whole image: (h // block, w // block) bool.

    A strong pixel (a suppression survivor with magnitude ≥ ``high``) is always a Canny edge —
    hysteresis keeps every component that holds one — and whether a pixel is strong depends
    only on its 13×13 neighbourhood. So each block row is smoothed, differentiated and
    suppressed row by row, with the same arithmetic as :func:`gaussian_zero` and
    :func:`sobel_nms`, only until every block of the row has ``min_edges`` strong pixels;
    on real frames that is a few rows of 64 (thresholds of 0.1 / 0.2 grey levels are low). A
    block left unproven may still be an edge block: the caller then counts the edges of
    the whole Canny (weak pixels joined to strong ones count too).
    """
    h, w = image.shape
    nby, nbx = h // block, w // block
    proven = np.zeros((nby, nbx), np.bool_)
    r = fw.shape[0] // 2
    dtype = divisor.dtype  # Canny's type (the image may be its 8-bit source: the same values)
    smooth = np.empty((4, w), dtype)  # rings, indexed by image row % 4 and % 3
    grad_i = np.empty((3, w), dtype)
    grad_j = np.empty((3, w), dtype)
    mag = np.empty((3, w), dtype)
    keep = np.zeros(w, np.bool_)  # its ends (the image border) are never candidates
    tmp = np.empty(w, dtype)
    line = np.zeros(w + 2 * r, np.float64)
    acc = np.empty(w, np.float64)
    d = np.empty(w + 2, np.float64)
    e = np.empty((3, w), np.float64)
    count = np.zeros(nbx, np.int64)
    for by in range(nby):
        count[:] = 0
        first, stop = max(by * block, 1), min(by * block + block, h - 1)  # rows to suppress
        next_smooth, next_grad = max(first - 2, 0), first - 1
        for row in range(first, stop):
            while next_grad <= row + 1:  # gradients of rows row − 1 … row + 1
                q = next_grad
                while next_smooth <= min(q + 1, h - 1):
                    _smooth_row(image, next_smooth, fw, divisor, tmp, line, acc, smooth[next_smooth % 4])
                    next_smooth += 1
                _gradient_row(smooth[max(q - 1, 0) % 4], smooth[q % 4], smooth[min(q + 1, h - 1) % 4], d, e,
                              grad_i[q % 3], grad_j[q % 3], mag[q % 3])
                next_grad += 1
            m = mag[row % 3]
            _suppress_row(mag[(row - 1) % 3], m, mag[(row + 1) % 3], grad_i[row % 3], grad_j[row % 3], keep, low)
            done = True
            for bx in range(nbx):
                n = 0
                for c in range(bx * block, bx * block + block):
                    n += keep[c] & (m[c] >= high)
                count[bx] += n
                done &= count[bx] >= min_edges
            if done:
                break
        for bx in range(nbx):
            proven[by, bx] = count[bx] >= min_edges
    return proven


@njit(**_JIT)
def block_edge_counts(edges, block):
    """Edge pixels of every full ``block``×``block`` tile (per-column sums, so it vectorises)."""
    h, w = edges.shape
    nby, nbx = h // block, w // block
    out = np.zeros((nby, nbx), np.int64)
    cols = np.zeros(nbx * block, np.int32)
    for by in range(nby):
        cols[:] = 0
        for r in range(by * block, by * block + block):
            e = edges[r]
            for c in range(nbx * block):
                cols[c] += e[c]
        for bx in range(nbx):
            out[by, bx] = cols[bx * block:bx * block + block].sum()
    return out


@njit(**_JIT)
def hysteresis(candidates, strong):
    """Canny's hysteresis: the candidates 8-connected to a strong pixel (``strong`` ⊆
    ``candidates``) — the set scikit-image gets by labelling the candidates' components and
    keeping those that hold a strong pixel. On a path from a strong pixel to a weak one, the
    first weak pixel after the last strong one touches a strong pixel; so the fill starts
    from the weak pixels next to a strong one and walks weak pixels only (usually few, where
    labelling visits every candidate); weak pixels are found 8 at a time (candidates XOR
    strong, as 64-bit words). Candidates never touch the image border (suppression skips
    it), so neighbours need no bounds checks."""
    h, w = candidates.shape
    out = strong.copy()
    flat_c, flat_s, flat_o = candidates.ravel(), strong.ravel(), out.ravel()
    n_words = (h * w) // 8
    words_c, words_s = flat_c[:8 * n_words].view(np.uint64), flat_s[:8 * n_words].view(np.uint64)
    stack = np.empty(h * w, np.int64)
    n = 0
    for i in range(n_words + 1):
        if i < n_words and words_c[i] == words_s[i]:
            continue  # no weak pixel among these 8
        for p in range(8 * i, min(8 * i + 8, h * w)):
            if not flat_c[p] or flat_s[p]:
                continue
            for q in (p - w - 1, p - w, p - w + 1, p - 1, p + 1, p + w - 1, p + w, p + w + 1):
                if flat_s[q]:
                    flat_o[p] = True
                    stack[n] = p
                    n += 1
                    break
    while n > 0:
        n -= 1
        p = stack[n]
        for q in (p - w - 1, p - w, p - w + 1, p - 1, p + 1, p + w - 1, p + w, p + w + 1):
            if flat_c[q] and not flat_o[q]:  # a weak pixel not reached yet
                flat_o[q] = True
                stack[n] = q
                n += 1
    return out


@njit(**_JIT)
def vertical_sobel_squared(image):
    """python-cpbd's squared vertical-edge response, ``correlate(image, [[1, 0, −1], [2, 0, −2],
    [1, 0, −1]] / 8)²`` with reflected borders (SciPy's "reflect", OpenCV's BORDER_REFLECT),
    and the sum of the squares.

    On integer-valued images every difference and partial sum is an exact multiple of 1/8 and
    every square an exact multiple of 1/64, so the values (and the sum, in any order) are the
    references' bits; the sign the correlation/convolution choice gives vanishes in the square.
    """
    h, w = image.shape
    s = np.empty((h, w), np.float64)
    col_sums = np.zeros(w, np.float64)  # per-column partial sums: vectorised, and exact anyway
    for r in range(h):
        ru, rd = max(r - 1, 0), min(r + 1, h - 1)
        up, mid, dn, out = image[ru], image[r], image[rd], s[r]
        for c in (0, w - 1):  # reflected columns
            cl, cr = max(c - 1, 0), min(c + 1, w - 1)
            v = ((up[cr] - up[cl]) + 2.0 * (mid[cr] - mid[cl]) + (dn[cr] - dn[cl])) * 0.125
            out[c] = v * v
        for c in range(1, w - 1):
            v = ((up[c + 1] - up[c - 1]) + 2.0 * (mid[c + 1] - mid[c - 1]) + (dn[c + 1] - dn[c - 1])) * 0.125
            out[c] = v * v
        for c in range(w):
            col_sums[c] += out[c]
    return s, col_sums.sum()


@njit(**_JIT)
def vertical_sobel8_squared(image):
    """:func:`vertical_sobel_squared` of an 8-bit image in integers: (8 × response)², that is
    64 × the references' squares, exactly (int32), and its exact sum (int64)."""
    h, w = image.shape
    s = np.empty((h, w), np.int32)
    col_sums = np.zeros(w, np.int64)
    i32 = np.int32
    for r in range(h):
        ru, rd = max(r - 1, 0), min(r + 1, h - 1)
        up, mid, dn, out = image[ru], image[r], image[rd], s[r]
        for c in (0, w - 1):  # reflected columns
            cl, cr = max(c - 1, 0), min(c + 1, w - 1)
            v = i32((i32(up[cr]) - i32(up[cl])) + i32(2) * (i32(mid[cr]) - i32(mid[cl])) + (i32(dn[cr]) - i32(dn[cl])))
            out[c] = v * v
        for c in range(1, w - 1):
            v = i32((i32(up[c + 1]) - i32(up[c - 1])) + i32(2) * (i32(mid[c + 1]) - i32(mid[c - 1]))
                    + (i32(dn[c + 1]) - i32(dn[c - 1])))
            out[c] = v * v
        for c in range(w):
            col_sums[c] += out[c]
    return s, col_sums.sum()


@njit(**_JIT)
def thin_vertical_edges(s, threshold, thinning):
    """python-cpbd's ``marziliano`` edge map: squared response above ``threshold``, then (with
    ``thinning``) only pixels above both neighbours horizontally or vertically, zero outside.
    ``s`` float64 (:func:`vertical_sobel_squared`) or int32 (:func:`vertical_sobel8_squared`,
    with the threshold times 64: the same comparisons, exactly)."""
    h, w = s.shape
    t = np.empty((h + 2, w + 2), s.dtype)  # the thresholded response in a ring of zeros
    zero = t.dtype.type(0)
    t[0, :] = zero
    t[h + 1, :] = zero
    for r in range(h):
        row, src = t[r + 1], s[r]
        row[0] = zero
        row[w + 1] = zero
        for c in range(w):
            v = src[c]
            row[c + 1] = v if v > threshold else zero
    out = np.empty((h, w), np.bool_)
    for r in range(h):
        up, mid, dn, o = t[r], t[r + 1], t[r + 2], out[r]
        if not thinning:
            for c in range(w):
                o[c] = mid[c + 1] > zero
            continue
        for c in range(w):  # branch-free, so it vectorises
            v = mid[c + 1]
            o[c] = ((v > mid[c]) & (v > mid[c + 2])) | ((v > up[c + 1]) & (v > dn[c + 1]))
    return out


@njit(**_JIT)
def _block_range(image, r0, c0, block):
    """Minimum and maximum of one block: per-column running minima and maxima over the rows
    (element-wise, so the loop vectorises), then reduced (exact in any order; intensities are
    finite)."""
    lo, hi = image[r0, c0:c0 + block].copy(), image[r0, c0:c0 + block].copy()
    for r in range(r0, r0 + block):
        row = image[r, c0:c0 + block]
        for c in range(block):
            lo[c] = min(lo[c], row[c])
            hi[c] = max(hi[c], row[c])
    return lo.min(), hi.max()


@njit(**_JIT, inline="always")
def _pack_bits(flags, bits):
    """Bytes that are 0 or 1, eight to a uint64 of ``flags``, to bits, eight to a byte of
    ``bits`` (little-endian: byte i of a word becomes bit i)."""
    for i in range(flags.shape[0]):
        bits[i] = np.uint8((flags[i] * np.uint64(0x0102040810204080)) >> np.uint64(56))


@njit(**_JIT, inline="always")
def _ones_down(mask, p, cap):
    """Consecutive set bits of ``mask`` (uint64 words) at positions p, p−1, …, at most ``cap``;
    position 63 and below are never set, so the count stops before word 0."""
    n = 0
    while True:
        k, b = p >> 6, np.uint64(p & 63)
        window = (mask[k] << (np.uint64(63) - b)) | ((mask[k - 1] >> np.uint64(1)) >> b)  # bit 63 is p
        ones = leading_zeros(~window)
        n += ones
        if ones < 64 or n >= cap:
            return min(n, cap)
        p -= 64


@njit(**_JIT, inline="always")
def _ones_up(mask, p, cap):
    """Consecutive set bits of ``mask`` at positions p, p+1, …, at most ``cap`` (the mask has
    clear words past its last set bit)."""
    n = 0
    while True:
        k, b = p >> 6, np.uint64(p & 63)
        window = (mask[k] >> b) | ((mask[k + 1] << np.uint64(1)) << (np.uint64(63) - b))  # bit 0 is p
        ones = trailing_zeros(~window)
        n += ones
        if ones < 64 or n >= cap:
            return min(n, cap)
        p += 64


@njit(**_JIT)
def edge_direction(gx, gy):
    """Which edges python-cpbd measures: the gradient angle (``atan2(gy, gx)`` in degrees, 0
    where gx is 0) rounded to a 45° step (``np.round``, half to even) is 0 → 1 (a rising row),
    ±4 → −1 (falling), anything else → 0 (no width). ``atan2`` runs only near the ±22.5°
    boundaries (tan 22.5° = 0.41421356…): elsewhere the ratio |gy|/|gx| decides, with a
    margin (3e-5 relative) far above the rounding error of the reference's arithmetic."""
    ay, ax = abs(gy), abs(gx)
    if gx == 0:
        return 1
    if ay < 0.4142 * ax:
        return 1 if gx > 0 else -1
    if ay > 0.41422 * ax:
        return 0
    q = np.round(math.atan2(gy, gx) * (180 / np.pi) / 45)
    if q == 0:
        return 1
    return -1 if q == 4 or q == -4 else 0


@njit(**_JIT)
def block_histogram(image, edge_block, sobel_edges, block, plateaus_right, max_steps, bucket_low, bucket_high):
    """python-cpbd's histogram of blur-probability buckets over the edge blocks.

    Blocks are the full ``block``×``block`` tiles from the top left; ``edge_block`` says which
    hold enough Canny edges (:func:`proven_edge_blocks`, :func:`block_edge_counts`). In an edge block every interior Sobel edge pixel whose gradient
    angle (``atan2`` of ``np.gradient``'s central differences, 0 where the horizontal one is 0)
    quantises to 0 (rising rows) or ±4 (falling, in steps of 45°) gets a Marziliano width: steps
    of strictly monotone intensity to the left plus to the right, each capped at
    ``max_steps`` + 1; its bucket comes from ``bucket_low`` (block contrast ≤ 50) or
    ``bucket_high``. Returns (histogram of 101 buckets, whether any interior Sobel edge pixel
    of the image has a nonzero angle).

    The reference walks pixel by pixel from each edge; here each row's steps (rising, falling,
    and falling-or-flat) and its edge pixels are bit masks, built with vectorised compares,
    so a run length is a count of leading or trailing ones and the edge pixels are visited by
    their set bits. Column c is bit c + 64 of a row's mask.
    """
    h, w = image.shape
    hist = np.zeros(101, np.int64)
    any_angle = False
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            if sobel_edges[r, c]:
                gx = (np.float64(image[r, c + 1]) - np.float64(image[r, c - 1])) / 2.0
                gy = (np.float64(image[r + 1, c]) - np.float64(image[r - 1, c])) / 2.0
                if gx != 0 and (gy != 0 or gx < 0):
                    any_angle = True
                    break
        if any_angle:
            break
    nby, nbx = h // block, w // block
    low_contrast = np.zeros((nby, nbx), np.bool_)
    for by in range(nby):
        for bx in range(nbx):
            if edge_block[by, bx]:
                lo, hi = _block_range(image, by * block, bx * block, block)
                low_contrast[by, bx] = np.int64(np.float64(hi) - np.float64(lo)) <= 50
    words = (w + 64) // 64 + 2  # a clear word before column 0 and after the last column
    flags = np.zeros((4, 8 * words), np.uint64)  # 0/1 bytes: rising, falling, falling-or-flat, edge
    masks = np.zeros((4, words), np.uint64)
    rise_f, fall_f, flat_f, edge_f = (flags[0].view(np.uint8), flags[1].view(np.uint8), flags[2].view(np.uint8),
                                      flags[3].view(np.uint8))
    rise, fall, fall_or_flat, edge = masks[0], masks[1], masks[2], masks[3]
    cap = max_steps + 1  # the reference's walk takes at most max_steps + 1 steps
    for by in range(nby):
        if not edge_block[by].any():
            continue
        for r in range(max(by * block, 1), min(by * block + block, h - 1)):
            x, s = image[r], sobel_edges[r]
            for c in range(1, w):  # the step into column c
                rise_f[64 + c] = x[c - 1] < x[c]
                fall_f[64 + c] = x[c - 1] > x[c]
            for c in range(1, w - 1):  # interior edge pixels only
                edge_f[64 + c] = s[c]
            _pack_bits(flags[0], rise.view(np.uint8))
            _pack_bits(flags[1], fall.view(np.uint8))
            _pack_bits(flags[3], edge.view(np.uint8))
            if plateaus_right:
                for c in range(1, w):
                    flat_f[64 + c] = x[c - 1] >= x[c]
                _pack_bits(flags[2], fall_or_flat.view(np.uint8))
            right_fall = fall_or_flat if plateaus_right else fall
            for bx in range(nbx):
                if not edge_block[by, bx]:
                    continue
                table = bucket_low if low_contrast[by, bx] else bucket_high
                first, last = 64 + max(bx * block, 1), 64 + min(bx * block + block, w - 1) - 1
                for k in range(first >> 6, (last >> 6) + 1):
                    todo = edge[k]
                    if k == first >> 6:
                        todo &= ~np.uint64(0) << np.uint64(first & 63)
                    if k == last >> 6:
                        todo &= ~np.uint64(0) >> np.uint64(63 - (last & 63))
                    while todo:
                        c = 64 * k + trailing_zeros(todo) - 64
                        todo &= todo - np.uint64(1)
                        direction = edge_direction((np.float64(x[c + 1]) - np.float64(x[c - 1])) / 2.0,
                                                   (np.float64(image[r + 1, c]) - np.float64(image[r - 1, c])) / 2.0)
                        if direction == 0:
                            continue
                        # left: steps into columns c−1, c−2, …; right: into c+2, c+3, … (as the reference)
                        if direction > 0:
                            left, right = _ones_down(rise, c + 63, cap), _ones_up(rise, c + 66, cap)
                        else:
                            left, right = _ones_down(fall, c + 63, cap), _ones_up(right_fall, c + 66, cap)
                        hist[table[min(left, max_steps) + min(right, max_steps) + 2]] += 1
    return hist, any_angle
