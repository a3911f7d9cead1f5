"""No-reference sharpness: CPBD (cumulative probability of blur detection).

A vectorised re-implementation of the ``cpbd`` package (python-cpbd, a port of the authors'
MATLAB code), including its Canny step from scikit-image, so the core install needs neither.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _cpbd_kernels as _k

from ._frames import as_batch, unbatch
from .registry import Metric, Variant, register

BLOCK = 64  # block side in pixels
EDGE_BLOCK_SHARE = 0.002  # a block is an edge block with more Canny edges than this share
BETA = 3.6
MAX_STEPS = 100  # the reference scans at most 101 steps on each side of an edge
SHARP_BINS = 64  # CPBD = share of edges whose blur probability rounds to ≤ 0.63


def luma_pil(rgb: np.ndarray, dtype=np.uint8) -> np.ndarray:
    """ITU-R 601 luma exactly as PIL's ``Image.convert("L")`` rounds it (uint8; ``dtype``
    float64 gives the same integers as floats, CPBD's input, without a second pass)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    return _k.luma_pil(rgb, np.empty(rgb.shape[:2], dtype))


@lru_cache(maxsize=16)
def _bleed_over(shape: tuple[int, int], sigma: float, dtype=np.float64) -> np.ndarray:
    # scikit-image smooths a ones-mask the same way to undo the zero padding at the borders.
    # SciPy's gaussian_filter gives the same bits as this kernel (divided by ones: exact), and
    # SciPy's ndimage would add ≈ 0.13 s to every worker's start.
    ones = np.ones(shape, dtype)
    return _k.gaussian_zero(ones, _gaussian_weights(float(sigma)), ones) + np.finfo(dtype).eps


@lru_cache(maxsize=4)
def _gaussian_weights(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's ``_gaussian_kernel1d`` for order 0: exp(−x²/2σ²) on ±int(truncate·σ + 0.5), normalised."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    return phi / phi.sum()


def canny(image: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Canny edges of a 2-D float64 or float32 image, equal to ``skimage.feature.canny(image)``
    (0.26), which keeps float32 input in float32.

    Gaussian smoothing with zero padding renormalised by the smoothed mask, Sobel gradients,
    bilinear non-maximum suppression, and hysteresis over 8-connected components. The
    thresholds are absolute (scikit-image's defaults for float input).
    """
    image, fw, bleed, low_t, high_t = _canny_inputs(image, sigma, low, high)
    smoothed = _k.gaussian_zero(image, fw, bleed)
    low_mask, strong, any_weak = _k.sobel_nms(smoothed, low_t, high_t)
    if not any_weak:
        return low_mask  # every candidate is strong: hysteresis keeps them all
    return _k.hysteresis(low_mask, strong)


def _canny_inputs(image, sigma, low, high):
    """The image (contiguous, float32 kept, anything else float64) and its :func:`_canny_params`."""
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    image = np.ascontiguousarray(image, dtype=dtype)
    return (image, *_canny_params(image.shape, dtype, sigma, low, high))


def _canny_params(shape, dtype, sigma, low, high):
    """The smoothing weights, the border renormalisation, and the thresholds as scikit-image
    compares them (the low one is a C float there, the high one is compared in the image's
    type) for Canny in ``dtype``."""
    return _gaussian_weights(float(sigma)), _bleed_over(shape, sigma, dtype), np.float32(low), dtype(high)


def _edge_blocks(image: np.ndarray, min_edges: int, dtype=np.float64) -> np.ndarray:
    """Which full blocks hold at least ``min_edges`` edges of :func:`canny` on ``image`` in
    ``dtype`` (an 8-bit image is read as its values: the same numbers), deciding most from a
    few rows of strong pixels; Canny on the whole image only when some block is left
    unproven."""
    # 8-bit values are exact in either type; any other image is rounded to it first, as
    # Canny in float32 (ATVGnet's) sees it
    image = np.ascontiguousarray(image) if image.dtype == np.uint8 else np.ascontiguousarray(image, dtype=dtype)
    fw, bleed, low, high = _canny_params(image.shape, dtype, 1.0, 0.1, 0.2)
    proven = _k.proven_edge_blocks(image, fw, bleed, low, high, BLOCK, min_edges)
    if proven.all():
        return proven
    return _k.block_edge_counts(canny(image.astype(dtype)), BLOCK) >= min_edges


def _octave_sobel_edges(image: np.ndarray, threshold: float | None = None, thinning: bool = True) -> np.ndarray:
    """Vertical edges: normalised Sobel, squared, thresholded, optionally thinned.

    ``threshold`` None is python-cpbd's adaptive 2·sqrt(mean(strength²)); a number is a fixed
    threshold on the squared response (ATVGnet's ``matlab_sobel_edge``: 4, no thinning).
    The references filter with SciPy (reflect borders); on integer-valued input every partial
    sum is exact in float64, so :func:`_k.vertical_sobel_squared` gives the same bits, and on
    an 8-bit image :func:`_k.vertical_sobel8_squared` the same numbers times 64 in integers.
    """
    if image.dtype == np.uint8:
        s, total = _k.vertical_sobel8_squared(np.ascontiguousarray(image))
        scale = 64.0  # exact: a power of two
    else:
        s, total = _k.vertical_sobel_squared(np.ascontiguousarray(image, dtype=np.float64))
        scale = 1.0
    if threshold is None:
        threshold = 2 * np.sqrt(total / scale / s.size)  # np.mean's value: the sum is exact
    return _k.thin_vertical_edges(s, float(threshold) * scale, thinning)


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
    parameters are those of :func:`cpbd`. An 8-bit image runs in integers where the
    reference's float64 arithmetic is exact (the same value); any other is read as float64."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
    if image.ndim != 2:
        raise ValueError(f"cpbd_gray needs a 2-D image; got shape {image.shape}")
    h, w = image.shape
    nby, nbx = h // BLOCK, w // BLOCK
    if nby == 0 or nbx == 0 or h < 3 or w < 3:
        return 0.0  # no full 64×64 block: the reference returns 0
    edge_blocks = _edge_blocks(image, int(BLOCK * BLOCK * EDGE_BLOCK_SHARE) + 1,
                               np.float32 if canny_float32 else np.float64)
    hist, any_edge_angle = _k.block_histogram(
        image, edge_blocks, _octave_sobel_edges(image, sobel_threshold, thinning), BLOCK, plateaus_right, MAX_STEPS,
        _bucket_table(5), _bucket_table(3))
    if angle_check and not any_edge_angle and not _any_angle(image.astype(np.float64)):
        return 0.0  # the reference measures no widths when no pixel has a nonzero angle
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

    Computed faster, not differently: a block with enough strong Canny pixels (always edges)
    in its first rows is an edge block without the whole Canny map, which runs only when a
    block cannot be decided that way; 8-bit luma is filtered in exact integer arithmetic.

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
        out[k] = cpbd_gray(gray, sobel_threshold=sobel_threshold, thinning=thinning,
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
