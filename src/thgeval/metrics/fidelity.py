"""Full-reference fidelity: L1, PSNR, SSIM and MS-SSIM on RGB frames.

SSIM (Gaussian or box window) and every MS-SSIM scale run as one compiled pass per channel
that filters the moment maps row by row and never stores them (:mod:`._ssim_kernels`),
which gives scikit-image's and pytorch-msssim's values many times faster.
"""

from __future__ import annotations

import inspect
import math

import cv2
import numpy as np

from ..errors import MetricSkipped
from ._frames import check_pair, unbatch
from .chunk_memo import chunk_memo
from ._ssim_kernels import coarse_scale_stats_frames as _coarse_scale_stats_frames
from ._ssim_kernels import ssim_means as _ssim_means
from .registry import POOLED_FRAMES, Metric, Variant, register

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def to_gray(frames: np.ndarray, gray: str | None) -> np.ndarray:
    """RGB batch (T, H, W, 3) → grey batch (T, H, W, 1) by the named conversion.

    ``"cv2"``: OpenCV's ``cvtColor(…, COLOR_BGR2GRAY)`` on the BGR frame THG scripts read with
    ``cv2.imread`` (BT.601 0.299 R + 0.587 G + 0.114 B in OpenCV's fixed point, rounded to
    uint8 for uint8 input). None leaves the frames as they are.
    """
    if gray is None or frames.shape[-1] == 1:
        return frames
    if gray != "cv2":
        raise ValueError(f"gray must be None or 'cv2'; got {gray!r}")
    # RGB2GRAY on RGB is BGR2GRAY on the BGR frame the references read from disk.
    return np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames])[..., None]


def psnr(pred, gt, *, data_range: float = 255.0, gray: str | None = None, mse_eps: float = 0.0,
         cap_below: float = 0.0, cap_value: float = math.inf):
    """Peak signal-to-noise ratio, ``10·log10(R² / MSE)`` with the MSE over all pixels and channels.

    Parameters
    ----------
    pred, gt : array_like
        One image (H, W) / (H, W, C) or a batch (T, H, W, C) of equal shape.
    data_range : float
        R, the span of the pixel values (255 for uint8).
    gray : None or "cv2"
        Convert RGB frames to grey first (:func:`to_gray`).
    mse_eps : float
        Added to the normalised MSE (MSE / R²) inside the logarithm, as piq's ``psnr`` does
        (1e-8 there: identical frames give 80 dB); when nonzero, the cap below is not used.
    cap_below, cap_value : float
        Frames whose normalised MSE is ≤ ``cap_below`` get ``cap_value`` instead. The default
        (0, ``inf``) gives ``inf`` for identical frames; many THG scripts return 100 there
        (DisCo: ``mse == 0``; common_metrics_on_video_quality: ``mse < 1e-10`` on [0, 1] data).

    Returns
    -------
    float or ndarray
        PSNR in dB, per frame for a batch. Identical frames give ``inf`` by default (the
        leaderboard prints ∞).

    Notes
    -----
    The defaults equal ``skimage.metrics.peak_signal_noise_ratio(gt, pred, data_range=R)`` per frame.
    """
    p, g, single = check_pair(pred, gt)
    p, g = to_gray(p, gray), to_gray(g, gray)
    out = np.empty(len(p))
    n = p[0].size
    for i, (a, b) in enumerate(zip(p, g)):
        if a.dtype == np.uint8 and b.dtype == np.uint8:
            sse = cv2.norm(np.ascontiguousarray(a), np.ascontiguousarray(b), cv2.NORM_L2SQR)
        else:
            sse = float(np.sum((a.astype(np.float64) - b.astype(np.float64)) ** 2))
        mse_n = sse / n / data_range**2
        if mse_eps:
            out[i] = -10.0 * math.log10(mse_n + mse_eps)  # piq: no cap, the eps bounds it
        elif mse_n <= cap_below:
            out[i] = cap_value
        else:
            out[i] = 10.0 * math.log10(data_range**2 / (sse / n))  # the default's exact arithmetic
    return unbatch(out, single)


def gaussian_kernel(sigma: float, radius: int) -> np.ndarray:
    """1-D Gaussian weights on ``-radius..radius`` summing to one (scipy's kernel)."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _separable_plane_stats(x: np.ndarray, y: np.ndarray, g: np.ndarray, data_range: float, K1: float,
                          K2: float, cov_norm: float = 1.0) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term of one channel pair under the separable
    window ``g`` (1-D weights: Gaussian, or 1/n each for the box), over the window-valid
    region — the region scikit-image averages (it crops the filter's border) and
    pytorch-msssim filters.

    Runs in float32 per pixel on values centred at 128 (float32 filtering is several times
    faster than float64); centring keeps the E[x²] − E[x]² cancellation small, and the result
    agrees with scikit-image's float64 computation to about 1e-6.
    """
    return _ssim_means(x, y, g, (K1 * data_range) ** 2, (K2 * data_range) ** 2, cov_norm, 128.0)


def _check_window(shape, win_size: int) -> None:
    if min(shape[1], shape[2]) < win_size:
        raise MetricSkipped(f"frames {shape[2]}×{shape[1]} are smaller than the {win_size}-px SSIM window")


def ssim(pred, gt, *, data_range: float = 255.0, window: str = "gaussian", win_size: int = 11,
         sigma: float = 1.5, sample_covariance: bool = False, K1: float = 0.01, K2: float = 0.03,
         gray: str | None = None, downsample: bool = False):
    """Structural similarity (Wang et al. 2004), the mean SSIM map, averaged over channels.

    Parameters
    ----------
    pred, gt : array_like
        One image (H, W) / (H, W, C) or a batch (T, H, W, C) of equal shape.
    data_range : float
        The span of pixel values (255 for uint8); sets C1 = (K1·R)², C2 = (K2·R)².
    window : {"gaussian", "uniform"}
        Gaussian of ``sigma`` (radius ``int(3.5·sigma + 0.5)``, scipy's truncate 3.5) or a
        ``win_size`` box.
    sample_covariance : bool
        Divide local covariances by N−1 (scikit-image's default) instead of N.
    gray : None or "cv2"
        Convert RGB frames to grey first (:func:`to_gray`), as DisCo's script does.
    downsample : bool
        piq's rule: average-pool both frames by ``f = max(1, round(min(H, W) / 256))`` (f×f
        blocks, remainder rows and columns dropped) before SSIM when f > 1.

    Returns
    -------
    float or ndarray
        SSIM in [-1, 1] (1 for identical frames), per frame for a batch.

    Notes
    -----
    The defaults equal ``skimage.metrics.structural_similarity(gt, pred, gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1)``, the setting
    of Wang et al.'s paper. ``window="uniform", win_size=7, sample_covariance=True`` equals
    scikit-image's defaults, which ATVGnet's ``compare_ssim`` and many THG scripts use.
    Like scikit-image, the mean skips a border of ``(win_size − 1) / 2`` pixels, which makes
    the Gaussian setting also equal to the "valid"-region SSIM of
    common_metrics_on_video_quality's ``calculate_ssim.py`` (OpenCV 11×11 Gaussian σ 1.5 on
    [0, 1] data, borders cropped by 5) and, with ``downsample=True``, to ``piq.ssim``'s defaults.

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from
    error visibility to structural similarity", IEEE TIP 13(4), 2004.
    """
    return _ssim(pred, gt, data_range=data_range, window=window, win_size=win_size, sigma=sigma,
                 sample_covariance=sample_covariance, K1=K1, K2=K2, gray=gray, downsample=downsample)


def _ssim(pred, gt, *, data_range, window, win_size, sigma, sample_covariance, K1, K2, gray, downsample,
          level0=None):
    p, g, single = check_pair(pred, gt)
    if window == "gaussian" and not sample_covariance and gray is None and not downsample:
        # Wang et al.'s setting: the same numbers as MS-SSIM's finest scale, possibly shared
        stats = (level0 or gaussian_level0)(p, g, sigma=sigma, radius=int(3.5 * sigma + 0.5),
                                            data_range=data_range, K1=K1, K2=K2)
        return unbatch(stats[:, :, 0].mean(axis=1), single)
    p, g = to_gray(p, gray), to_gray(g, gray)
    if downsample:
        p, g = _piq_downsample(p), _piq_downsample(g)
    if window == "gaussian":
        r = int(3.5 * sigma + 0.5)
        win_size, weights = 2 * r + 1, gaussian_kernel(sigma, r)
    elif window == "uniform":
        weights = np.full(win_size, 1.0 / win_size)
    else:
        raise ValueError(f"window must be 'gaussian' or 'uniform'; got {window!r}")
    _check_window(p.shape, win_size)
    npix = win_size * win_size
    cov_norm = npix / (npix - 1) if sample_covariance else 1.0
    # scikit-image averages the map without the (win_size − 1) / 2 border: the valid region
    out = np.empty(len(p))
    for i in range(len(p)):
        out[i] = np.mean([_separable_plane_stats(x, y, weights, data_range, K1, K2, cov_norm)[0]
                          for x, y in zip(_planes(p[i]), _planes(g[i]))])
    return unbatch(out, single)


def gaussian_level0(p: np.ndarray, g: np.ndarray, *, sigma: float, radius: int, data_range: float, K1: float,
                    K2: float) -> np.ndarray:
    """Mean SSIM and mean contrast-structure term of every frame and channel (batches
    T×H×W×C), Gaussian window of ``radius``, over the window-valid region: (T, C, 2) float64.

    The finest scale of MS-SSIM and the SSIM of scikit-image's Gaussian setting are both this.
    """
    _check_window(p.shape, 2 * radius + 1)
    weights = gaussian_kernel(sigma, radius)
    out = np.empty((len(p), p.shape[-1], 2))
    for i in range(len(p)):
        for ch, (x, y) in enumerate(zip(_planes(p[i]), _planes(g[i]))):
            out[i, ch] = _separable_plane_stats(x, y, weights, data_range, K1, K2)
    return out


def _planes(frame: np.ndarray) -> list[np.ndarray]:
    """The channels of one H×W×C frame as contiguous planes."""
    if frame.shape[-1] == 1:
        return [np.ascontiguousarray(frame[..., 0])]
    return list(cv2.split(np.ascontiguousarray(frame)))


def _piq_downsample(frames: np.ndarray) -> np.ndarray:
    """piq.ssim's average pooling: factor ``max(1, round(min(H, W) / 256))`` (Python's round,
    half to even), stride = kernel = factor, no padding (PyTorch ``avg_pool2d``)."""
    f = max(1, round(min(frames.shape[1:3]) / 256))
    if f == 1:
        return frames
    t, h, w, c = frames.shape
    h, w = h // f, w // f
    x = frames[:, : h * f, : w * f].astype(np.float32)
    return x.reshape(t, h, f, w, f, c).mean(axis=(2, 4), dtype=np.float32)


def ms_ssim(pred, gt, *, data_range: float = 255.0, win_size: int = 11, sigma: float = 1.5,
            weights=MS_SSIM_WEIGHTS, K1: float = 0.01, K2: float = 0.03):
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) over 5 scales, averaged over channels.

    Parameters
    ----------
    pred, gt : array_like
        One image or a batch (T, H, W, C); the smaller side must exceed
        ``(win_size − 1) · 2^(scales − 1)`` (160 px for the defaults).
    weights : sequence of float
        Exponents of the scales, finest first (the paper's values).

    Returns
    -------
    float or ndarray
        MS-SSIM in [0, 1], per frame for a batch.

    Raises
    ------
    MetricSkipped
        Frames too small for the number of scales.

    Notes
    -----
    Follows pytorch-msssim's ``ms_ssim`` (VainF), the implementation most THG code calls:
    unpadded ("valid") Gaussian filtering, contrast-structure terms clipped at 0 (ReLU) at
    the first four scales and SSIM at the last, 2×2 average pooling with zero padding on odd
    sides. Filtering runs in float32 like pytorch-msssim's; the two agree to about 2e-6.

    References
    ----------
    Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural similarity for image
    quality assessment", Asilomar Conference on Signals, Systems and Computers, 2003.
    """
    return _ms_ssim(pred, gt, data_range=data_range, win_size=win_size, sigma=sigma, weights=weights,
                    K1=K1, K2=K2)


def _ms_ssim(pred, gt, *, data_range, win_size, sigma, weights, K1, K2, level0=None):
    p, g, single = check_pair(pred, gt)
    levels = len(weights)
    need = (win_size - 1) * 2 ** (levels - 1)
    if min(p.shape[1], p.shape[2]) <= need:
        raise MetricSkipped(
            f"frames {p.shape[2]}×{p.shape[1]} are too small for MS-SSIM: {levels} scales with a "
            f"window of {win_size} px need both sides > {need} px"
        )
    r = (win_size - 1) // 2
    gauss = gaussian_kernel(sigma, r)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    w = [float(e) for e in weights]
    # The finest scale ("valid" filtering) is the Gaussian SSIM's statistics, possibly shared.
    finest = (level0 or gaussian_level0)(p, g, sigma=sigma, radius=r, data_range=data_range, K1=K1, K2=K2)
    out = np.empty(len(p))
    for i in range(len(p)):
        if levels == 1:
            terms = finest[i, :, :1]
        else:  # pooling works in float32 (PyTorch's avg_pool2d), from the interleaved frames
            coarse = _coarse_scale_stats_frames(np.ascontiguousarray(p[i]), np.ascontiguousarray(g[i]), gauss,
                                                levels, c1, c2, 128.0)
            terms = np.concatenate([finest[i, :, 1:2], coarse[:, :-1, 1], coarse[:, -1:, 0]], axis=1)
        out[i] = np.mean([math.prod(max(t, 0.0) ** e for t, e in zip(row, w)) for row in terms.tolist()])
    return unbatch(out, single)


def l1(pred, gt, *, data_range: float = 255.0):
    """Mean absolute difference over all pixels and channels, on values divided by
    ``data_range`` (255: [0, 1] frames from uint8).

    Returns
    -------
    float or ndarray
        Per frame for a batch; 0 for identical frames.

    Notes
    -----
    FOMM's reconstruction loss (AliaksandrSiarohin/first-order-model ``reconstruction.py``):
    ``torch.abs(out['prediction'] - driving).mean()`` per frame on [0, 1] float32 RGB, then
    ``np.mean`` over the frames of all videos (pooled). uint8 differences are exact here, so
    only the reference's float32 mean differs (≈1e-7 relative).
    """
    p, g, single = check_pair(pred, gt)
    wide = np.int16 if p.dtype == np.uint8 and g.dtype == np.uint8 else np.float64  # exact, no wrap-around
    d = np.abs(p.astype(wide) - g.astype(wide))
    out = d.reshape(len(d), -1).mean(axis=1, dtype=np.float64) / data_range
    return unbatch(out, single)


def _l1_frames(pred, gt, **params):
    return l1(pred, gt, **params)


def _psnr_frames(pred, gt, **params):
    return psnr(pred, gt, **params)


def _shared_level0(p, g, **kw):
    """:func:`gaussian_level0`, computed once per chunk for SSIM and MS-SSIM in the run engine."""
    return chunk_memo(("ssim-level0", tuple(sorted(kw.items()))), (p, g), lambda: gaussian_level0(p, g, **kw))


def _ssim_frames(pred, gt, **params):
    return _ssim(pred, gt, **{**_SSIM_DEFAULTS, **params}, level0=_shared_level0)


def _ms_ssim_frames(pred, gt, **params):
    return _ms_ssim(pred, gt, **{**_MS_SSIM_DEFAULTS, **params}, level0=_shared_level0)


def _defaults(fn) -> dict:
    return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.kind is v.KEYWORD_ONLY}


_SSIM_DEFAULTS, _MS_SSIM_DEFAULTS = _defaults(ssim), _defaults(ms_ssim)


register(Metric(
    name="psnr", title="PSNR", higher_is_better=True, needs=frozenset({"gt"}), frame_fn=_psnr_frames,
    variants={
        "skimage": Variant("skimage", {"data_range": 255.0},
                           "10·log10(255²/MSE) over all pixels and channels, per frame; "
                           "scikit-image peak_signal_noise_ratio",
                           notes="identical frames give inf"),
        "cmvq": Variant(
            "cmvq", {"data_range": 255.0, "cap_below": 1e-10, "cap_value": 100.0},
            "JunyaoHu/common_metrics_on_video_quality calculate_psnr.py img_psnr: 20·log10(1/√MSE) on [0, 1] "
            "frames, all channels; 100 when MSE < 1e-10",
            notes="identical frames (and, on uint8 data, frames whose MSE is below 1e-10·255²) give 100; the "
                  "reference computes in float32, this in float64 (≈1e-5 dB apart)"),
        "piq": Variant(
            "piq", {"data_range": 255.0, "mse_eps": 1e-8},
            "piq.psnr defaults as called by dc3ea9f/vico_challenge_baseline evaluations/compute_base_metrics.py: "
            "−10·log10(MSE + 1e-8) on [0, 1] RGB frames",
            aggregation=POOLED_FRAMES,
            notes="identical frames give 80 dB (the 1e-8 inside the logarithm); ViCo pools frames"),
        "disco": Variant(
            "disco", {"data_range": 255.0, "cap_value": 100.0},
            "Wangt-CN/DisCo tool/metrics/ssim_l1_lpips_psnr.py psnr_eval: 20·log10(255/√MSE) over all "
            "channels of the frame, 100 when MSE == 0",
            notes="identical frames give 100"),
    },
    default_variant="skimage", version="1", unit="dB", value_range="[0, ∞) dB",
    description="peak signal-to-noise ratio of each frame against its GT frame",
))

register(Metric(
    name="l1", title="L1", higher_is_better=False, needs=frozenset({"gt"}), frame_fn=_l1_frames,
    variants={"fomm": Variant(
        "fomm", {"data_range": 255.0},
        "AliaksandrSiarohin/first-order-model reconstruction.py: torch.abs(prediction − driving).mean() on "
        "[0, 1] RGB frames (256×256 for VoxCeleb), np.mean over all frames of all videos",
        aggregation=POOLED_FRAMES)},
    default_variant="fomm", version="1", value_range="[0, 1]",
    description="mean absolute difference of each frame from its GT frame, on [0, 1] values",
))

register(Metric(
    name="ssim", title="SSIM", higher_is_better=True, needs=frozenset({"gt"}), frame_fn=_ssim_frames,
    variants={
        "skimage-gaussian": Variant(
            "skimage-gaussian", {"window": "gaussian", "sigma": 1.5, "sample_covariance": False, "data_range": 255.0},
            "Wang et al. 2004, 11×11 Gaussian σ 1.5, population covariance, RGB per channel; scikit-image "
            "structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)"),
        "skimage-uniform7": Variant(
            "skimage-uniform7", {"window": "uniform", "win_size": 7, "sample_covariance": True, "data_range": 255.0},
            "7×7 uniform window, sample covariance, RGB per channel: scikit-image structural_similarity "
            "defaults as called by ATVGnet evaluation_matrix.py (compare_ssim) and "
            "bangskitchen/talking-head-metrics metric.py"),
        "skimage-uniform7-gray": Variant(
            "skimage-uniform7-gray",
            {"window": "uniform", "win_size": 7, "sample_covariance": True, "data_range": 255.0, "gray": "cv2"},
            "scikit-image structural_similarity defaults on grey frames from OpenCV cvtColor(BGR2GRAY) (uint8): "
            "Wangt-CN/DisCo tool/metrics/ssim_l1_lpips_psnr.py"),
        "cmvq": Variant(
            "cmvq", {"window": "gaussian", "sigma": 1.5, "sample_covariance": False, "data_range": 255.0},
            "JunyaoHu/common_metrics_on_video_quality calculate_ssim.py: OpenCV 11×11 Gaussian σ 1.5, "
            "population covariance, 'valid' region (5-px border cropped), per-channel mean, [0, 1] data",
            notes="the same arithmetic as skimage-gaussian (its border crop is the valid region, and SSIM of "
                  "x/255 with C = (K·1)² equals SSIM of x with C = (K·255)²); kept as its own name so a "
                  "protocol can cite it"),
        "piq": Variant(
            "piq", {"window": "gaussian", "sigma": 1.5, "sample_covariance": False, "data_range": 255.0,
                    "downsample": True},
            "piq.ssim defaults (11×11 Gaussian σ 1.5, valid region, average pooling by round(min(H, W)/256)) as "
            "called by dc3ea9f/vico_challenge_baseline evaluations/compute_base_metrics.py on [0, 1] RGB frames",
            aggregation=POOLED_FRAMES,
            notes="frames under 384 px on the short side are not pooled, so there it equals skimage-gaussian"),
    },
    default_variant="skimage-gaussian", version="1", value_range="[-1, 1]",
    description="structural similarity of each frame against its GT frame",
))

register(Metric(
    name="ms_ssim", title="MS-SSIM", higher_is_better=True, needs=frozenset({"gt"}), frame_fn=_ms_ssim_frames,
    variants={"wang2003": Variant(
        "wang2003", {"data_range": 255.0},
        "Wang, Simoncelli & Bovik 2003, 5 scales, 11×11 Gaussian σ 1.5; pytorch-msssim (VainF) ms_ssim, "
        "data_range 255")},
    default_variant="wang2003", version="1", value_range="[0, 1]", aliases=("ms-ssim", "msssim"),
    description="multi-scale structural similarity of each frame against its GT frame",
))
