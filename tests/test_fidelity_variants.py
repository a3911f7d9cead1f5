"""PSNR and SSIM variants of THG reference code: parity with the packages they call and golden
values of the reference scripts themselves.

Golden values (``CMVQ_*`` below): JunyaoHu/common_metrics_on_video_quality commit
5f751734ce9cef4cd2dddb235726b75dff62a387, ``calculate_ssim.py`` (``calculate_ssim``) and
``calculate_psnr.py`` (``calculate_psnr``), unmodified, imported from a scratch directory outside
the project and run on 2026-12-06 with torch 2.14.1, numpy 2.4.6 and OpenCV 5.0.0.93. Input: GRID
``grid/bbaf2n.mpg`` decoded with ``thgeval.io.load_clip``; pred = frame t − 2, GT = frame t for
t in ``CMVQ_TS`` (the clip delayed by two frames), plus the identical pair (frame 40, 40); videos as
``torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255`` with a batch axis of 1; command
``python cmvq_golden.py`` printing ``calculate_ssim(pred, gt)["value"]`` and
``calculate_psnr(pred, gt)["value"]`` (per-frame values, one video). Tolerance reached: SSIM
4.3e-7 (asserted < 1e-6: their [0, 1] float32 input, our float32 filtering), PSNR 3.6e-7 dB
(asserted < 1e-5: their float32 MSE); the identical pair gives 1 (± 3e-10) and 100 exactly.

Parity (asserted against the installed packages of the dev extra): ``ssim@skimage-uniform7``
and ``ssim@skimage-uniform7-gray`` against scikit-image 0.26 ``structural_similarity`` (on RGB
with ``channel_axis=-1``; on ``cv2.cvtColor(BGR2GRAY)`` grey with its defaults, as DisCo's
``tool/metrics/ssim_l1_lpips_psnr.py`` calls it): 6.8e-8 and 1.2e-7 reached, asserted < 1e-6.
``ssim@piq`` and ``psnr@piq`` against piq 0.8.0 called as dc3ea9f/vico_challenge_baseline
``evaluations/compute_base_metrics.py`` calls it (NCHW RGB float32 / 255, ``data_range=1.``):
SSIM 2.6e-6 reached, asserted < 5e-6 (piq in float32 is itself 2.5e-6 from piq in float64);
PSNR 2e-6 dB reached, asserted < 1e-4.

Golden values (``DISCO_PSNR``): Wangt-CN/DisCo commit c4fa48a530729b3aec0bb46919f9006dbc2c9a30,
``tool/metrics/ssim_l1_lpips_psnr.py`` ``psnr_eval`` (its source executed alone from a scratch
directory: the module's top-level imports of lpips/torchvision are not needed by it), on the same
GRID pairs as cmvq (uint8 RGB frames as PIL gives them), 2026-12-06, ``python golden.py``.
Tolerance reached: 0 (bit-equal, float64); the identical pair gives 100.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from thgeval.metrics import psnr, resolve, ssim

from _frames_util import decode, jpeg, still

CMVQ_TS = [2, 10, 18, 26, 34, 42, 50, 58, 66, 74, 40]
CMVQ_SSIM = [0.9737535312202668, 0.9784317700483545, 0.969578781871958, 0.9585766783118214, 0.9700819362305663,
             0.9655473705148241, 0.9658430844735802, 0.9816275039587827, 0.9695717837524042, 0.9738853693481296,
             1.0]
CMVQ_PSNR = [39.65552032964363, 40.44429370995664, 37.553561666358874, 35.59543973118758, 37.759888240754705,
             36.02482086701636, 36.439449172580346, 41.39834324411475, 37.27367148732657, 38.78893420982949, 100.0]

DISCO_PSNR = [39.65552051292665, 40.44429367545773, 37.55356160541247, 35.595440095631815, 37.75988839651291,
              36.024820930174016, 36.43944947656303, 41.39834330903257, 37.27367184833517, 38.78893421039704, 100]


def _p(spec):
    return resolve(spec).params()


@pytest.fixture(scope="module")
def grid(media):
    from thgeval.io import load_clip

    return load_clip(media / "grid" / "bbaf2n.mpg").frames


@pytest.fixture(scope="module")
def pairs(media):
    """(pred, gt) batches of several sizes: GRID delayed by two frames, JPEG-degraded VoxCeleb2,
    stills of 512² and 640×400 (piq pools those by 2) and an odd 333×211."""
    g = decode(media / "grid" / "swiz3n.mpg", 12, step=2)
    out = [(g[:-1:2], g[1::2])]
    vox = decode(media / "voxceleb2" / "00104.mp4", 4, step=10)
    out.append((np.stack([jpeg(f, 30) for f in vox]), vox))
    for size in ((512, 512), (640, 400), (333, 211)):
        big = np.stack([still(media / "stills" / n, size) for n in ("obama_portrait.jpg", "biden.jpg")])
        out.append((np.stack([jpeg(f, 20) for f in big]), big))
    return out


@pytest.mark.media
def test_cmvq_golden(grid):
    pred = np.stack([grid[t - 2] if t != 40 else grid[40] for t in CMVQ_TS])
    gt = grid[CMVQ_TS]
    s = ssim(pred, gt, **_p("ssim@cmvq"))
    p = psnr(pred, gt, **_p("psnr@cmvq"))
    assert np.abs(s - CMVQ_SSIM).max() < 1e-6, np.abs(s - CMVQ_SSIM).max()
    assert np.abs(p - CMVQ_PSNR).max() < 1e-5, np.abs(p - CMVQ_PSNR).max()
    assert s[-1] == pytest.approx(1.0, abs=1e-6) and p[-1] == 100.0


def test_disco_psnr_golden(grid):
    pred = np.stack([grid[t - 2] if t != 40 else grid[40] for t in CMVQ_TS])
    p = psnr(pred, grid[CMVQ_TS], **_p("psnr@disco"))
    assert np.abs(p - DISCO_PSNR).max() < 1e-9, np.abs(p - DISCO_PSNR).max()


@pytest.mark.media
@pytest.mark.parametrize("variant", ["skimage-uniform7", "skimage-uniform7-gray"])
def test_uniform7_equals_skimage(pairs, variant):
    skm = pytest.importorskip("skimage.metrics")
    worst = 0.0
    for pred, gt in pairs:
        ours = ssim(pred, gt, **_p(f"ssim@{variant}"))
        if variant.endswith("gray"):
            # DisCo: cv2.imread (BGR) → cvtColor(BGR2GRAY) → structural_similarity(a, b) defaults
            g = [cv2.cvtColor(np.ascontiguousarray(x[..., ::-1]), cv2.COLOR_BGR2GRAY) for x in (*pred, *gt)]
            n = len(pred)
            ref = [skm.structural_similarity(g[i], g[n + i]) for i in range(n)]
        else:
            ref = [skm.structural_similarity(p, q, data_range=255, channel_axis=-1) for p, q in zip(pred, gt)]
        worst = max(worst, float(np.abs(ours - np.asarray(ref)).max()))
    assert worst < 1e-6, worst


@pytest.mark.media
def test_piq_equals_piq_package(pairs):
    torch = pytest.importorskip("torch")
    piq = pytest.importorskip("piq")
    ws = wp = 0.0
    for pred, gt in pairs:
        # vico_challenge_baseline: NCHW RGB float / 255, piq.psnr(pd, gt) and piq.ssim(pd, gt, data_range=1.)
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 255.  # noqa: E731
        ref_s = piq.ssim(t(pred), t(gt), data_range=1., reduction="none").numpy()
        ref_p = piq.psnr(t(pred), t(gt), reduction="none").numpy()
        ws = max(ws, float(np.abs(ssim(pred, gt, **_p("ssim@piq")) - ref_s).max()))
        wp = max(wp, float(np.abs(psnr(pred, gt, **_p("psnr@piq")) - ref_p).max()))
    assert ws < 5e-6, ws  # piq in float32 is itself 2.5e-6 from piq in float64
    assert wp < 1e-4, wp
    same = t(pairs[0][1][:1])
    assert psnr(pairs[0][1][:1], pairs[0][1][:1], **_p("psnr@piq"))[0] == pytest.approx(
        float(piq.psnr(same, same)), abs=1e-4)  # 80 dB, not inf


def test_identical_frames_per_variant(frames):
    f = frames[:2]
    assert np.all(np.isinf(psnr(f, f)))  # the default keeps inf
    assert np.all(psnr(f, f, **_p("psnr@cmvq")) == 100.0)
    assert np.all(psnr(f, f, **_p("psnr@disco")) == 100.0)
    assert np.allclose(psnr(f, f, **_p("psnr@piq")), 80.0)
    for v in ("skimage-uniform7-gray", "cmvq", "piq"):
        assert np.allclose(ssim(f, f, **_p(f"ssim@{v}")), 1.0, atol=1e-6), v


def test_variant_params_move_only_what_they_name(frames):
    a, b = frames[1:4], frames[:3]
    base = psnr(a, b)
    assert np.array_equal(psnr(a, b, **_p("psnr@cmvq")), base)  # no cap reached
    assert np.array_equal(psnr(a, b, **_p("psnr@disco")), base)
    mse_n = 10 ** (-base / 10)
    assert np.allclose(psnr(a, b, **_p("psnr@piq")), -10 * np.log10(mse_n + 1e-8), rtol=0, atol=1e-9)
    assert np.array_equal(ssim(a, b, **_p("ssim@cmvq")), ssim(a, b))
    assert np.array_equal(ssim(a, b, **_p("ssim@piq")), ssim(a, b))  # 64×80: piq does not pool
    gray = ssim(a, b, **_p("ssim@skimage-uniform7-gray"))
    g = lambda x: np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in x])[..., None]  # noqa: E731
    assert np.array_equal(gray, ssim(g(a), g(b), **_p("ssim@skimage-uniform7")))
    assert math.isinf(psnr(a[0], a[0], gray="cv2"))


def test_piq_pooling_factor():
    from thgeval.metrics.fidelity import _piq_downsample

    x = np.arange(2 * 641 * 400 * 3, dtype=np.uint8).reshape(2, 641, 400, 3)
    y = _piq_downsample(x)  # round(400 / 256) = 2: 2×2 means, the odd row dropped
    assert y.shape == (2, 320, 200, 3) and y.dtype == np.float32
    assert y[0, 0, 0, 0] == np.mean(x[0, :2, :2, 0].astype(np.float64))
    assert _piq_downsample(x[:, :383, :383]).shape == (2, 383, 383, 3)  # round(1.496) = 1
    assert _piq_downsample(x[:, :640, :384]).shape == (2, 320, 192, 3)  # round(1.5) = 2


def test_variants_listed():
    m = resolve("ssim").metric
    assert {"skimage-uniform7-gray", "cmvq", "piq"} <= set(m.variants)
    assert {"cmvq", "piq", "disco"} <= set(resolve("psnr").metric.variants)
    assert resolve("ssim@skimage-uniform7-gray").params()["gray"] == "cv2"
