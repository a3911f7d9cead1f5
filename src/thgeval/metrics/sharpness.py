"""No-reference sharpness: CPBD (cumulative probability of blur detection).

A vectorised re-implementation of the ``cpbd`` package (python-cpbd, a port of the authors'
MATLAB code), including its Canny step from scikit-image, so the core install needs neither.
"""

from __future__ import annotations

from functools import lru_cache

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
def _bleed_over(shape: tuple[int, int], sigma: float) -> np.ndarray:
    # scikit-image smooths a ones-mask the same way to undo the zero padding at the borders
    return ndi.gaussian_filter(np.ones(shape), sigma, mode="constant", cval=0.0, truncate=4.0) + np.finfo(float).eps


def canny(image: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Canny edges of a 2-D float64 image, equal to ``skimage.feature.canny(image)`` (0.26).

    Gaussian smoothing with zero padding renormalised by the smoothed mask, Sobel gradients,
    bilinear non-maximum suppression, and hysteresis over 8-connected components. The
    thresholds are absolute (scikit-image's defaults for float input).
    """
    smoothed = ndi.gaussian_filter(image, sigma, mode="constant", cval=0.0, truncate=4.0)
    smoothed /= _bleed_over(image.shape, sigma)
    jsob = ndi.sobel(smoothed, axis=1)
    isob = ndi.sobel(smoothed, axis=0)
    mag = np.sqrt(isob * isob + jsob * jsob)
    # Non-maximum suppression on the interior (the border is masked out by the reference).
    i, j, m = isob[1:-1, 1:-1], jsob[1:-1, 1:-1], mag[1:-1, 1:-1]

    def nb(di, dj):
        return mag[1 + di: mag.shape[0] - 1 + di, 1 + dj: mag.shape[1] - 1 + dj]

    ai, aj = np.abs(i), np.abs(j)
    same_sign = (i <= 0) == (j <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_ji, r_ij = aj / ai, ai / aj
    a = same_sign & (ai > aj)
    b = same_sign & ~(ai > aj)
    c = ~same_sign & (ai < aj)
    d = ~same_sign & ~(ai < aj)
    w = np.select([a | d, b | c], [r_ji, r_ij])
    n11 = np.select([a, b, c, d], [nb(1, 0), nb(0, 1), nb(0, 1), nb(-1, 0)])
    n12 = np.select([a, b, c, d], [nb(1, 1), nb(1, 1), nb(-1, 1), nb(-1, 1)])
    n21 = np.select([a, b, c, d], [nb(-1, 0), nb(0, -1), nb(0, -1), nb(1, 0)])
    n22 = np.select([a, b, c, d], [nb(-1, -1), nb(-1, -1), nb(1, -1), nb(1, -1)])
    # The reference's threshold argument is a C float: compare with the float32 value.
    keep = (m >= np.float32(low)) & ((n12 * w + n11 * (1.0 - w)) <= m) & ((n22 * w + n21 * (1.0 - w)) <= m)
    low_mask = np.zeros(image.shape, bool)
    low_mask[1:-1, 1:-1] = keep
    labels, count = ndi.label(low_mask, np.ones((3, 3), bool))
    if count == 0:
        return low_mask
    strong = np.zeros(count + 1, bool)
    strong[np.unique(labels[low_mask & (mag >= high)])] = True
    strong[0] = False
    return strong[labels]


def _octave_sobel_edges(image: np.ndarray) -> np.ndarray:
    """Vertical edges: normalised Sobel, threshold 2·sqrt(mean(strength²)), simple thinning."""
    h1 = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]) / 8.0
    s = ndi.convolve(image, h1.T) ** 2
    s[s <= 2 * np.sqrt(np.mean(s))] = 0
    z = np.zeros_like(s[:, :1])
    horiz = (s > np.hstack([z, s[:, :-1]])) & (s > np.hstack([s[:, 1:], z]))
    z = np.zeros_like(s[:1])
    vert = (s > np.vstack([z, s[:-1]])) & (s > np.vstack([s[1:], z]))
    return horiz | vert


def _runs_left(step: np.ndarray) -> np.ndarray:
    """For each column j, how many consecutive True end at j going left (0 if step[j] False)."""
    cols = np.arange(step.shape[1])
    last_false = np.maximum.accumulate(np.where(step, -1, cols), axis=1)
    return cols - last_false


def _runs_right(step: np.ndarray) -> np.ndarray:
    """For each column j, how many consecutive True start at j going right."""
    n = step.shape[1]
    cols = np.arange(n)
    next_false = np.minimum.accumulate(np.where(step, n, cols)[:, ::-1], axis=1)[:, ::-1]
    return next_false - cols


def _marziliano_widths(edges: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Edge widths along rows (Marziliano et al. 2002) at the reference's edge pixels."""
    h, w = image.shape
    gy, gx = np.gradient(image)
    with np.errstate(invalid="ignore"):
        angle = np.where(gx != 0, np.arctan2(gy, gx) * (180 / np.pi), 0.0)  # the reference's rule
    widths = np.zeros(image.shape)
    if not angle.any():
        return widths
    q = np.round(angle / 45)
    # step[j]: the intensity rises (inc) or falls (dec) from column j-1 to j; never at j = 0.
    inc = np.zeros(image.shape, bool)
    dec = np.zeros(image.shape, bool)
    inc[:, 1:] = image[:, :-1] < image[:, 1:]
    dec[:, 1:] = image[:, :-1] > image[:, 1:]
    interior = np.zeros(image.shape, bool)
    interior[1:-1, 1:-1] = edges[1:-1, 1:-1]

    def width(step):
        left, right = _runs_left(step), _runs_right(step)
        wl = np.minimum(left[:, :-2], MAX_STEPS) + 1  # run ending at col-1
        wr = np.zeros((h, w - 2), dtype=left.dtype)
        wr[:, :-1] = right[:, 3:]  # run starting at col+2 (none past the last column)
        wr = np.minimum(wr, MAX_STEPS) + 1
        out = np.zeros(image.shape)
        out[:, 1:-1] = wl + wr
        return out

    rising = interior & (q == 0)
    falling = interior & (np.abs(q) == 4)
    if rising.any():
        widths[rising] = width(inc)[rising]
    if falling.any():
        widths[falling] = width(dec)[falling]
    return widths


@lru_cache(maxsize=4)
def _bucket_table(jnb: int) -> np.ndarray:
    """Histogram bucket (0..100) of the blur probability for every possible edge width."""
    widths = np.arange(2 * (MAX_STEPS + 1) + 1, dtype=np.float64)
    p = 1 - np.exp(-np.abs(widths / jnb) ** BETA)
    return np.round(p * 100).astype(np.int64)


def cpbd_gray(image: np.ndarray) -> float:
    """CPBD of a 2-D float64 luma image on the 0–255 scale (the reference's input)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"cpbd_gray needs a 2-D image; got shape {image.shape}")
    h, w = image.shape
    nby, nbx = h // BLOCK, w // BLOCK
    if nby == 0 or nbx == 0 or h < 3 or w < 3:
        return 0.0  # no full 64×64 block: the reference returns 0
    edges = canny(image)
    widths = _marziliano_widths(_octave_sobel_edges(image), image)
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
    return float(hist[:SHARP_BINS].sum() / total) if total else 0.0


def cpbd(image):
    """Cumulative probability of blur detection (Narvekar & Karam 2011), a no-reference sharpness.

    Parameters
    ----------
    image : array_like, uint8
        One RGB image (H, W, 3), one grey image (H, W) or (H, W, 1), or a batch (T, H, W, C),
        on the 0–255 scale.

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
        out[k] = cpbd_gray(gray.astype(np.float64))
    return unbatch(out, single)


def _cpbd_frames(pred, gt=None, **params):
    return cpbd(pred)


register(Metric(
    name="cpbd", title="CPBD", higher_is_better=True, needs=frozenset(), frame_fn=_cpbd_frames,
    variants={"cpbd": Variant(
        "cpbd", {},
        "Narvekar & Karam 2011; cpbd package (0x64746b/python-cpbd) cpbd/compute.py on PIL 'L' luma, "
        "scikit-image canny defaults; mean over frames")},
    default_variant="cpbd", version="1", value_range="[0, 1]",
    description="no-reference sharpness; also scored on the GT clips as the real row",
))
