"""PSNR, SSIM and MS-SSIM: parity with scikit-image and pytorch-msssim on real frames.

Tolerances reached (recorded here, asserted below with margin): PSNR equal to 1e-12 dB,
SSIM gaussian ≤ 2e-6 and SSIM uniform-7 ≤ 1e-7 against scikit-image 0.26 (our filtering
runs in float32), MS-SSIM ≤ 3e-6 against pytorch-msssim 1.0.0 in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from thgeval.errors import MetricSkipped
from thgeval.metrics import ms_ssim, psnr, resolve, ssim

from _frames_util import decode, jpeg, still


@pytest.fixture(scope="module")
def carphone(media):
    return decode(media / "carphone" / "distorted.mp4", 120), decode(media / "carphone" / "pristine.mp4", 120)


@pytest.fixture(scope="module")
def pairs(media):
    """Real frames of several sizes with a real degradation: (pred, gt) batches."""
    out = []
    grid = decode(media / "grid" / "bbaf2n.mpg", 6, step=12)
    out.append((np.stack([jpeg(f, 20) for f in grid]), grid))
    vox = decode(media / "voxceleb2" / "00104.mp4", 6, step=10)
    out.append((np.stack([jpeg(f, 35) for f in vox]), vox))
    big = np.stack([still(media / "stills" / n, (512, 512)) for n in ("obama_portrait.jpg", "biden.jpg")])
    out.append((np.stack([jpeg(f, 15) for f in big]), big))
    odd = still(media / "stills" / "rose_leslie_1.jpg", (333, 211))[None]
    out.append((np.stack([jpeg(f, 25) for f in odd]), odd))
    return out


@pytest.mark.media
def test_psnr_equals_skimage(carphone):
    skm = pytest.importorskip("skimage.metrics")
    pred, gt = carphone
    ours = psnr(pred, gt)
    ref = np.array([skm.peak_signal_noise_ratio(g, p, data_range=255) for p, g in zip(pred, gt)])
    assert np.abs(ours - ref).max() < 1e-10
    assert abs(ours.mean() - 23.07) < 0.01  # the sequence's known average


@pytest.mark.media
@pytest.mark.parametrize("variant", ["skimage-gaussian", "skimage-uniform7"])
def test_ssim_equals_skimage(carphone, pairs, variant):
    skm = pytest.importorskip("skimage.metrics")
    ref_kw = dict(data_range=255, channel_axis=-1)
    if variant == "skimage-gaussian":
        ref_kw.update(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    params = resolve(f"ssim@{variant}").params()
    worst = 0.0
    for pred, gt in [(carphone[0][::10], carphone[1][::10])] + pairs:
        ours = ssim(pred, gt, **params)
        ref = np.array([skm.structural_similarity(g, p, **ref_kw) for p, g in zip(pred, gt)])
        worst = max(worst, float(np.abs(ours - ref).max()))
    assert worst < 1e-5, worst  # float32 filtering: ~2e-6 reached


@pytest.mark.media
def test_ms_ssim_equals_pytorch_msssim(pairs, media):
    torch = pytest.importorskip("torch")
    pm = pytest.importorskip("pytorch_msssim")
    n = 0
    for pred, gt in pairs:
        if min(gt.shape[1:3]) <= 160:
            continue
        ours = ms_ssim(pred, gt)
        t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).double()  # noqa: E731
        ref = pm.ms_ssim(t(pred), t(gt), data_range=255, size_average=False).numpy()
        assert np.abs(ours - ref).max() < 1e-5
        n += len(gt)
    assert n >= 10


def test_pooling_from_interleaved_frames_equals_per_channel_pooling():
    """MS-SSIM's first 2×2 pooling reads the interleaved frame; every branch (3 channels with
    even sides, odd sides, grey, 4 channels, a strided view) must give avg_pool2's bits per
    channel."""
    from thgeval.metrics._ssim_kernels import avg_pool2, avg_pool2_channels

    rng = np.random.default_rng(4)
    for shape in [(288, 360, 3), (211, 333, 3), (64, 65, 3), (100, 120, 1), (90, 80, 4)]:
        f = rng.integers(0, 256, shape).astype(np.uint8)
        for frame in (f, f[::-1, :, ::-1]):
            got = avg_pool2_channels(np.ascontiguousarray(frame))
            assert np.array_equal(got, np.stack([avg_pool2(frame[..., c]) for c in range(shape[2])])), shape


def test_ms_ssim_grey_and_odd_sizes_equal_pytorch_msssim():
    """The MS-SSIM paths the real-frame test does not reach: grey frames and odd sides."""
    torch = pytest.importorskip("torch")
    pm = pytest.importorskip("pytorch_msssim")
    rng = np.random.default_rng(5)
    for shape in [(2, 200, 180, 1), (2, 203, 171, 3)]:
        gt = rng.integers(0, 256, shape).astype(np.uint8)
        pred = np.clip(gt.astype(int) + rng.integers(-25, 26, shape), 0, 255).astype(np.uint8)
        t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).double()  # noqa: E731
        ref = pm.ms_ssim(t(pred), t(gt), data_range=255, size_average=False).numpy()
        assert np.abs(ms_ssim(pred, gt) - ref).max() < 1e-5, shape


@pytest.mark.media
def test_ms_ssim_too_small_is_skipped(carphone):
    with pytest.raises(MetricSkipped, match="176×144 are too small for MS-SSIM.*> 160 px"):
        ms_ssim(carphone[0][:2], carphone[1][:2])


def test_identical_and_shapes(frames):
    assert math.isinf(psnr(frames[0], frames[0])) and psnr(frames, frames).shape == (len(frames),)
    assert ssim(frames[0], frames[0]) == pytest.approx(1.0, abs=1e-6)
    batch = ssim(frames[1:4], frames[:3])
    assert np.allclose(batch, [ssim(a, b) for a, b in zip(frames[1:4], frames[:3])], atol=0)
    with pytest.raises(ValueError, match="same shape"):
        ssim(frames[0], frames[0][:10])
    with pytest.raises(ValueError, match="ambiguous"):
        psnr(frames[:, :, :, 0], frames[:, :, :, 0])
    g = frames[0, :, :, 0]
    assert 0 < ssim(g, np.clip(g.astype(int) + 9, 0, 255).astype(np.uint8)) < 1  # grey images


def test_worse_degradation_scores_lower(frames):
    f = np.repeat(np.repeat(frames, 3, axis=1), 3, axis=2)  # 192×240, textured
    mild = np.clip(f + np.random.default_rng(0).normal(0, 3, f.shape), 0, 255).astype(np.uint8)
    strong = np.clip(f + np.random.default_rng(0).normal(0, 20, f.shape), 0, 255).astype(np.uint8)
    for fn in (psnr, ssim, ms_ssim):
        assert np.all(fn(mild, f) > fn(strong, f)), fn.__name__


def test_registry_records():
    ref = resolve("ssim@skimage-uniform7")
    assert ref.params()["win_size"] == 7 and ref.params()["sample_covariance"] is True
    assert resolve("MS-SSIM").metric.name == "ms_ssim" and resolve("psnr").metric.unit == "dB"


def test_engine_shares_the_finest_scale_between_ssim_and_ms_ssim(pairs, monkeypatch):
    """Fed one chunk by the run engine, SSIM (Gaussian) and MS-SSIM compute their common
    statistics once, in one thread or two, and give the values of separate calls."""
    from concurrent.futures import ThreadPoolExecutor

    from thgeval.metrics import fidelity
    from thgeval.run.framepass import Accumulator, feed

    calls = []
    real = fidelity.gaussian_level0
    monkeypatch.setattr(fidelity, "gaussian_level0", lambda *a, **k: calls.append(1) or real(*a, **k))
    pred, gt = pairs[0]
    for pool in (None, ThreadPoolExecutor(2)):
        calls.clear()
        accs = [Accumulator(k, k) for k in ("ssim", "ms_ssim", "ssim@cmvq", "ssim@skimage-uniform7")]
        feed(pool, [(a, pred, gt) for a in accs])
        assert len(calls) == 1
        got = [float(np.concatenate(a.values).mean()) for a in accs]
        assert got[0] == float(ssim(pred, gt).mean()) == got[2]
        assert got[1] == float(ms_ssim(pred, gt).mean())
        assert got[3] == float(ssim(pred, gt, window="uniform", win_size=7, sample_covariance=True).mean())
    calls.clear()
    ssim(pred, gt), ms_ssim(pred, gt)  # outside the engine nothing is shared
    assert len(calls) == 2
