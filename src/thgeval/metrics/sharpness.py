"""No-reference sharpness: CPBD (cumulative probability of blur detection).

A vectorised re-implementation of the ``cpbd`` package (python-cpbd, a port of the authors'
MATLAB code), including its Canny step from scikit-image, so the core install needs neither.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from scipy import ndimage as ndi

from ._frames import as_batch, unbatch
from .registry import Metric, Variant, register

BLOCK = 64  # block side in pixels
EDGE_BLOCK_SHARE = 0.002  # a block is an edge block with more Canny edges than this share
BETA = 3.6
MAX_STEPS = 100  # the reference scans at most 101 steps on each side of an edge
SHARP_BINS = 64  # CPBD = share of edges whose blur probability rounds to ≤ 0.63


def luma_pil(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma exactly as PIL's ``Image.convert("L")`` rounds it (uint8)."""
    rgb = rgb.astype(np.uint32)
    y = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    return y.astype(np.uint8)


@lru_cache(maxsize=16)
def _bleed_over(shape: tuple[int, int], sigma: float, dtype=np.float64) -> np.ndarray:
    # scikit-image smooths a ones-mask the same way to undo the zero padding at the borders
    ones = np.ones(shape, dtype)
    return ndi.gaussian_filter(ones, sigma, mode="constant", cval=0.0, truncate=4.0) + np.finfo(dtype).eps


def _sobel_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ndi.sobel(x, axis=0)`` and ``ndi.sobel(x, axis=1)`` (mode 'reflect'), bit for bit:
    the same operations in the same order as SciPy's 1-D correlation loops, on slices.
    SciPy accumulates in float64 and rounds each pass to the array's type (float32 too)."""
    xp = np.pad(x, 1, mode="symmetric")
    d0 = xp[2:, :] - xp[:-2, :]  # [-1, 0, 1] along axis 0 (rows padded)
    d0 = d0.astype(np.float64, copy=False)
    isob = (2.0 * d0[:, 1:-1] + (d0[:, :-2] + d0[:, 2:])).astype(x.dtype, copy=False)  # then [1, 2, 1]
    d1 = (xp[:, 2:] - xp[:, :-2]).astype(np.float64, copy=False)
    jsob = (2.0 * d1[1:-1, :] + (d1[:-2, :] + d1[2:, :])).astype(x.dtype, copy=False)
    return isob, jsob


def canny(image: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Canny edges of a 2-D float64 or float32 image, equal to ``skimage.feature.canny(image)``
    (0.26), which keeps float32 input in float32.

    Gaussian smoothing with zero padding renormalised by the smoothed mask, Sobel gradients,
    bilinear non-maximum suppression, and hysteresis over 8-connected components. The
    thresholds are absolute (scikit-image's defaults for float input).
    """
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    image = image.astype(dtype, copy=False)
    smoothed = ndi.gaussian_filter(image, sigma, mode="constant", cval=0.0, truncate=4.0)
    smoothed /= _bleed_over(image.shape, sigma, dtype)
    isob, jsob = _sobel_pair(smoothed)
    mag = np.sqrt(isob * isob + jsob * jsob)
    # Non-maximum suppression on the interior (the border is masked out by the reference),
    # in bands of rows so the temporaries stay in cache.
    low_mask = np.zeros(image.shape, bool)
    h = mag.shape[0]
    for top in range(1, h - 1, _BAND):
        bottom = min(top + _BAND, h - 1)
        low_mask[top:bottom, 1:-1] = _nms_rows(isob, jsob, mag, top, bottom, np.float32(low))
    weak = low_mask & (mag < high)
    if not weak.any():
        return low_mask  # every candidate is strong: hysteresis keeps them all
    labels, count = ndi.label(low_mask, np.ones((3, 3), bool))
    strong = np.zeros(count + 1, bool)
    strong[labels[low_mask & ~weak]] = True
    strong[0] = False
    return strong[labels]


_BAND = 32


def _nms_rows(isob, jsob, mag, top: int, bottom: int, low) -> np.ndarray:
    """scikit-image's bilinear non-maximum suppression for rows ``top:bottom`` (interior
    columns): keep a pixel whose magnitude is at least the interpolated magnitude of both
    neighbours along its gradient direction, and at least the low threshold."""
    w = mag.shape[1]
    i, j, m = isob[top:bottom, 1:-1], jsob[top:bottom, 1:-1], mag[top:bottom, 1:-1]

    def nb(di, dj):
        return mag[top + di: bottom + di, 1 + dj: w - 1 + dj]

    ai, aj = np.abs(i), np.abs(j)
    same = (i <= 0) == (j <= 0)
    # The reference's four cases; `mostly_j` is where it interpolates along columns.
    mostly_j = np.where(same, ai <= aj, ai < aj)
    with np.errstate(divide="ignore", invalid="ignore"):
        wt = np.where(mostly_j, ai, aj) / np.where(mostly_j, aj, ai)
    n11 = np.where(mostly_j, nb(0, 1), np.where(same, nb(1, 0), nb(-1, 0)))
    n21 = np.where(mostly_j, nb(0, -1), np.where(same, nb(-1, 0), nb(1, 0)))
    n12 = np.where(same, nb(1, 1), nb(-1, 1))
    n22 = np.where(same, nb(-1, -1), nb(1, -1))
    keep = m >= low  # the reference's threshold argument is a C float: float32(0.1)
    if wt.dtype == np.float32:
        # Cython: n·w in the array's type, (1.0 − w) and what follows in double (the literal)
        rest = 1.0 - wt.astype(np.float64)
        keep &= ((n12 * wt).astype(np.float64) + n11 * rest) <= m
        keep &= ((n22 * wt).astype(np.float64) + n21 * rest) <= m
        return keep
    rest = 1.0 - wt
    keep &= (n12 * wt + n11 * rest) <= m
    keep &= (n22 * wt + n21 * rest) <= m
    return keep


def _octave_sobel_edges(image: np.ndarray, threshold: float | None = None, thinning: bool = True) -> np.ndarray:
    """Vertical edges: normalised Sobel, squared, thresholded, optionally thinned.

    ``threshold`` None is python-cpbd's adaptive 2·sqrt(mean(strength²)); a number is a fixed
    threshold on the squared response (ATVGnet's ``matlab_sobel_edge``: 4, no thinning).
    The references filter with SciPy (reflect borders); on integer-valued input every partial
    sum here is exact in float64, so OpenCV's correlation gives the same bits, and the sign of
    the response (convolution vs correlation) vanishes in the square.
    """
    k = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 8.0  # h1.T
    s = cv2.filter2D(image, cv2.CV_64F, k[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT) ** 2
    if threshold is not None:
        s[s <= threshold] = 0
    else:
        s[s <= 2 * np.sqrt(np.mean(s))] = 0
    if not thinning:
        return s > 0
    z = np.zeros_like(s[:, :1])
    horiz = (s > np.hstack([z, s[:, :-1]])) & (s > np.hstack([s[:, 1:], z]))
    z = np.zeros_like(s[:1])
    vert = (s > np.vstack([z, s[:-1]])) & (s > np.vstack([s[1:], z]))
    return horiz | vert


def _run_lengths(step: np.ndarray, rows: np.ndarray, start: np.ndarray, direction: int) -> np.ndarray:
    """How many consecutive ``step`` flags hold from column ``start`` on, going ``direction``
    (at most MAX_STEPS + 1), for each edge pixel; step[:, 0] is never set."""
    w = step.shape[1]
    n = np.zeros(len(rows), dtype=np.int64)
    active = np.arange(len(rows))
    for k in range(MAX_STEPS + 1):
        col = start[active] + direction * k
        ok = (col >= 1) & (col < w)
        ok[ok] = step[rows[active[ok]], col[ok]]
        active = active[ok]
        if active.size == 0:
            break
        n[active] += 1
    return n


def _marziliano_widths(edges: np.ndarray, image: np.ndarray, *, plateaus_right: bool = False,
                       angle_check: bool = True) -> np.ndarray:
    """Edge widths along rows (Marziliano et al. 2002) at the reference's edge pixels.

    Width = steps of strictly monotone intensity to the left of the edge plus to its right,
    each capped at 101, for edges whose gradient angle quantises to 0° or ±180°.
    ``plateaus_right``: on the right of a ±180° (falling) edge, equal neighbours continue the
    run (ATVGnet breaks only on a rise there). ``angle_check``: python-cpbd computes no widths
    when no pixel has a nonzero angle; ATVGnet has no such check.
    """
    h, w = image.shape
    widths = np.zeros(image.shape)
    r, c = np.nonzero(edges[1:-1, 1:-1])
    r += 1
    c += 1
    # np.gradient's central differences at interior pixels, gathered at the edges only.
    gx = (image[r, c + 1] - image[r, c - 1]) / 2.0
    gy = (image[r + 1, c] - image[r - 1, c]) / 2.0
    angle = np.where(gx != 0, np.arctan2(gy, gx) * (180 / np.pi), 0.0)  # the reference's rule
    if angle_check and not angle.any() and not _any_angle(image):
        return widths  # the reference skips widths when no pixel has a nonzero angle
    q = np.round(angle / 45)
    rising, falling = image[:, :-1] < image[:, 1:], image[:, :-1] > image[:, 1:]
    falling_right = image[:, :-1] >= image[:, 1:] if plateaus_right else falling
    for sel, step_left, step_right in ((q == 0, rising, rising), (np.abs(q) == 4, falling, falling_right)):
        if not sel.any():
            continue
        rr, cc = r[sel], c[sel]
        flags = np.zeros(image.shape, bool)
        flags[:, 1:] = step_left  # flags[:, j]: intensity steps from column j-1 to j
        left = np.minimum(_run_lengths(flags, rr, cc - 1, -1), MAX_STEPS) + 1
        if step_right is not step_left:
            flags[:, 1:] = step_right
        right = np.minimum(_run_lengths(flags, rr, cc + 2, +1), MAX_STEPS) + 1
        widths[rr, cc] = left + right
    return widths


def _any_angle(image: np.ndarray) -> bool:
    """Whether any pixel has a nonzero gradient angle by the reference's rule."""
    gy, gx = np.gradient(image)
    return bool(np.any(gx < 0) or np.any((gx > 0) & (gy != 0)))


@lru_cache(maxsize=4)
def _bucket_table(jnb: int) -> np.ndarray:
    """Histogram bucket (0..100) of the blur probability for every possible edge width."""
    widths = np.arange(2 * (MAX_STEPS + 1) + 1, dtype=np.float64)
    p = 1 - np.exp(-np.abs(widths / jnb) ** BETA)
    return np.round(p * 100).astype(np.int64)


def cpbd_gray(image: np.ndarray, *, sobel_threshold: float | None = None, thinning: bool = True,
              sharp_bins: int = SHARP_BINS, plateaus_right: bool = False, angle_check: bool = True,
              canny_float32: bool = False) -> float:
    """CPBD of a 2-D luma image on the 0–255 scale (the reference's input); the keyword
    parameters are those of :func:`cpbd`."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"cpbd_gray needs a 2-D image; got shape {image.shape}")
    h, w = image.shape
    nby, nbx = h // BLOCK, w // BLOCK
    if nby == 0 or nbx == 0 or h < 3 or w < 3:
        return 0.0  # no full 64×64 block: the reference returns 0
    edges = canny(image.astype(np.float32) if canny_float32 else image)
    widths = _marziliano_widths(_octave_sobel_edges(image, sobel_threshold, thinning), image,
                                plateaus_right=plateaus_right, angle_check=angle_check)
    hb, wb = nby * BLOCK, nbx * BLOCK

    def blocks(a):
        return a[:hb, :wb].reshape(nby, BLOCK, nbx, BLOCK).swapaxes(1, 2).reshape(nby * nbx, BLOCK * BLOCK)

    edge_block = np.count_nonzero(blocks(edges), axis=1) > BLOCK * BLOCK * EDGE_BLOCK_SHARE
    pix = blocks(image)
    contrast = (pix.max(axis=1) - pix.min(axis=1)).astype(np.int64)
    wblocks = blocks(widths).astype(np.int64)
    hist = np.zeros(101, dtype=np.int64)
    for jnb in (5, 3):  # just-noticeable blur width: 5 for contrast ≤ 50, else 3
        sel = edge_block & ((contrast <= 50) if jnb == 5 else (contrast > 50))
        ws = wblocks[sel]
        ws = ws[ws != 0]
        if ws.size:
            hist += np.bincount(_bucket_table(jnb)[ws], minlength=101)
    total = hist.sum()
    return float(hist[:sharp_bins].sum() / total) if total else 0.0


def cpbd(image, *, sobel_threshold: float | None = None, thinning: bool = True, sharp_bins: int = SHARP_BINS,
         plateaus_right: bool = False, angle_check: bool = True, canny_float32: bool = False):
    """Cumulative probability of blur detection (Narvekar & Karam 2011), a no-reference sharpness.

    Parameters
    ----------
    image : array_like, uint8
        One RGB image (H, W, 3), one grey image (H, W) or (H, W, 1), or a batch (T, H, W, C),
        on the 0–255 scale.
    sobel_threshold : float or None
        Threshold on the squared normalised vertical Sobel response that makes an edge pixel
        for the widths; None is python-cpbd's adaptive 2·sqrt(mean(response²)).
    thinning : bool
        Keep only Sobel edge pixels that exceed both neighbours horizontally or vertically
        (python-cpbd, after MATLAB's ``edge``).
    sharp_bins : int
        CPBD is the share of edges in the first ``sharp_bins`` of the 101 blur-probability
        bins (64: probability ≤ 0.63; ATVGnet sums 63).
    plateaus_right : bool
        Equal neighbours continue a falling (±180°) edge's run on its right side (ATVGnet's
        comparison there); python-cpbd stops at them.
    angle_check : bool
        python-cpbd measures no widths when no pixel has a nonzero gradient angle.
    canny_float32 : bool
        Run Canny on float32 (ATVGnet passes a float32 image to scikit-image's ``canny``,
        which then smooths in float32); float64 otherwise.

    Returns
    -------
    float or ndarray
        CPBD in [0, 1], higher is sharper; per frame for a batch. Images without a full
        64×64 block, or without edges, give 0 (as the reference does).

    Notes
    -----
    Equals the ``cpbd`` package's ``compute`` on PIL's ``convert("L")`` luma of the frame.
    Its quirks are kept: Canny edges (scikit-image defaults: σ 1, absolute thresholds 0.1 /
    0.2 on the 0–255 scale) choose the 64×64 edge blocks (> 0.2 % edge pixels), while the
    widths come from a thinned vertical Sobel; gradient angles are 0 wherever the horizontal
    gradient is 0; only edges whose angle quantises to 0° or ±180° get a width; widths are
    capped at 101 steps per side; pixels on the image border get none.
    A float image in [0, 1] is refused: it would silently give a wrong value.

    ``sobel_threshold=4, thinning=False, sharp_bins=63, plateaus_right=True,
    angle_check=False, canny_float32=True`` equals ATVGnet's ``cpbd_compute``
    (lelechen63/ATVGnet ``code/evaluation_matrix.py``), the CPBD of Chen et al. 2019.

    References
    ----------
    N. D. Narvekar, L. J. Karam, "A no-reference image blur metric based on the cumulative
    probability of blur detection (CPBD)", IEEE TIP 20(9), 2011.
    """
    x = np.asarray(image)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"cpbd needs integer images on the 0–255 scale (uint8); got {x.dtype}. A float image in "
            "[0, 1] gives a silently wrong CPBD: convert with (x * 255).round().astype(np.uint8)"
        )
    if x.ndim == 2:
        x = x[..., None]
    batch, single = as_batch(x, "image")
    if batch.shape[-1] not in (1, 3):
        raise ValueError(f"cpbd needs grey or RGB images; got {batch.shape[-1]} channels")
    out = np.empty(len(batch))
    for k, frame in enumerate(batch):
        gray = frame[..., 0] if frame.shape[-1] == 1 else luma_pil(frame)
        out[k] = cpbd_gray(gray.astype(np.float64), sobel_threshold=sobel_threshold, thinning=thinning,
                           sharp_bins=sharp_bins, plateaus_right=plateaus_right, angle_check=angle_check,
                           canny_float32=canny_float32)
    return unbatch(out, single)


def _cpbd_frames(pred, gt=None, **params):
    return cpbd(pred, **params)


register(Metric(
    name="cpbd", title="CPBD", higher_is_better=True, needs=frozenset(), frame_fn=_cpbd_frames,
    variants={
        "cpbd": Variant(
            "cpbd", {},
            "Narvekar & Karam 2011; cpbd package (0x64746b/python-cpbd) cpbd/compute.py on PIL 'L' luma, "
            "scikit-image canny defaults; mean over frames"),
        "chen2018": Variant(
            "chen2018",
            {"sobel_threshold": 4.0, "thinning": False, "sharp_bins": 63, "plateaus_right": True,
             "angle_check": False, "canny_float32": True},
            "lelechen63/ATVGnet code/evaluation_matrix.py cpbd_compute: PIL 'L' luma as float32, fixed Sobel "
            "threshold (squared response > 4), no thinning, share of the first 63 bins; mean over frames",
            notes="also: equal neighbours continue the right side of a falling edge, and Canny runs in float32 "
                  "(the reference's image type) — both as in the reference code"),
    },
    default_variant="cpbd", version="1", value_range="[0, 1]",
    description="no-reference sharpness; also scored on the GT clips as the real row",
))
