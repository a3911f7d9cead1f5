"""fvd@cmvq and fvd@disco against golden numbers from the references' own code.

Provenance (golden numbers below, computed 2026-12-06 outside thgeval in /tmp/golden-fvd):

- cmvq: JunyaoHu/common_metrics_on_video_quality @ 5f751734ce9cef4cd2dddb235726b75dff62a387,
  ``fvd/styleganv/fvd.py``: ``preprocess_single`` on each GRID clip decoded with
  ``thgeval.load_clip`` as ``torch.from_numpy(frames).float().div(255).permute(3, 0, 1, 2)``
  (their [0, 1] CTHW input), and ``frechet_distance(feats_fake, feats_real)`` (scipy sqrtm).
- disco: Wangt-CN/DisCo @ c4fa48a530729b3aec0bb46919f9006dbc2c9a30, ``tool/metrics/``:
  ``resize.make_resizer("PIL", False, "bicubic", (224, 224))`` per frame, then
  ``utils.DatasetFVDVideoResize``'s FVD-3DInception steps (``/127.5 − 1``, one 1×3×T×224×224
  video); ``inception3d.InceptionI3d(400, in_channels=3)`` loaded with
  ``thgeval.nets.i3d.random_state_dict(0)`` on frames 0–23 of that tensor;
  ``metric_center.fid_from_feats`` / ``frechet_distance`` (scipy sqrtm, 1e-6 offset if not finite).
- command: ``PYTHONPATH=src python /tmp/golden-fvd/golden.py`` (torch 2.14.1, scipy 1.17.1,
  Pillow 13.0.0, CPU).

Tolerances: preprocessed tensors 1e-6 absolute per sampled value and 1e-7 relative on sums
(the same float32 operations: equal in practice); I3D logits 1e-4 of the largest magnitude
(float32 convolutions in another order); Fréchet distances 1e-6 relative (scipy's sqrtm
against thgeval's symmetric eigen-solver; ~1e-7 measured for 12 feature rows, ~1e-13 for 600).
"""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _fvd_util import FloatClipDetector, same_and_other  # noqa: E402

from thgeval.metrics.distribution import feature_stats, frechet_distance  # noqa: E402
from thgeval.nets.i3d import I3D, cmvq_inputs, disco_inputs, random_state_dict  # noqa: E402

IDX = [5054920, 8734486, 1442289, 1510983, 10409304, 11220819, 5277488, 1335910]  # RandomState(0) draws
GOLDEN = {  # name: (shape, sum, sum of |x|, values at IDX of the flattened tensor)
    "cmvq bbaf2n": ((3, 75, 224, 224), 531874.9444414377, 5065054.408650994,
                    [0.19215691089630127, 1.0, -0.7243697643280029, -0.5855942368507385, 0.9215686321258545,
                     0.301960825920105, 0.8745099306106567, -0.7098039388656616]),
    "cmvq lbax4n": ((3, 75, 224, 224), -431581.4919331074, 3536030.173346281,
                    [-0.11596643924713135, 0.44985997676849365, -0.43401360511779785, 0.06362533569335938,
                     0.2280111312866211, -0.1921568512916565, 0.5058823823928833, -0.4431372284889221]),
    "disco bbaf2n": ((1, 3, 75, 224, 224), 732790.9091925621, 5229852.99544239,
                     [0.1577669382095337, 1.0, -0.7255246639251709, -0.5620452165603638, 0.9923901557922363,
                      0.310641884803772, 0.9371451139450073, -0.6937751173973083]),
}
I3D_IDX = [132, 309, 341, 196, 246, 60, 155, 261]
I3D_GOLDEN = (12.345852591097355, 862.2504198998213,
              [1.946938395500183, 0.07487670332193375, 1.0121761560440063, -0.8620756268501282,
               -0.05317205190658569, 1.9725984334945679, -1.5739778280258179, -1.2265841960906982])
# cmvq's, DisCo's and LatentSync's (eval/fvd.py compute_fvd) Fréchet distances all printed these, to the last digit
FD_GOLDEN = {12: 4529.127660809674, 600: 2089.9806101541426}


def _frames(media, name):
    from thgeval.io import load_clip

    return load_clip(media / "grid" / f"{name}.mpg").frames


def _check(name, got):
    shape, total, total_abs, vals = GOLDEN[name]
    got = got.numpy().astype(np.float64)
    assert got.shape == shape
    flat = got.ravel()
    np.testing.assert_allclose(flat[IDX], vals, rtol=0, atol=1e-6)
    assert flat.sum() == pytest.approx(total, rel=1e-7)
    assert np.abs(flat).sum() == pytest.approx(total_abs, rel=1e-7)


@pytest.mark.media
@pytest.mark.parametrize("clip", ["bbaf2n", "lbax4n"])
def test_cmvq_preprocessing_equals_golden(media, clip):
    # 360×288 → short side 224: 280×224, centre crop 224², whole clip
    _check(f"cmvq {clip}", cmvq_inputs(_frames(media, clip)[None])[0])


@pytest.mark.media
def test_disco_preprocessing_equals_golden(media):
    _check("disco bbaf2n", disco_inputs(_frames(media, "bbaf2n")[None]))


@pytest.mark.media
def test_pil_float_resize_equals_pil(media):
    Image = pytest.importorskip("PIL.Image")
    from thgeval.io.pil_resize import pil_resize_float

    frame = _frames(media, "bbaf2n")[10]
    for size in ((224, 224), (400, 100), (37, 300), (360, 200)):
        want = np.stack([np.asarray(Image.fromarray(frame[..., c].astype(np.float32), mode="F")
                                    .resize(size, resample=Image.BICUBIC)) for c in range(3)], -1)
        got = pil_resize_float(frame, size)
        assert got.shape == want.shape and got.dtype == np.float32
        assert np.abs(got - want).max() <= 1e-4, size


@pytest.mark.media
def test_disco_i3d_equals_golden_on_random_weights(media):
    x = disco_inputs(_frames(media, "bbaf2n")[None, :24])
    state = random_state_dict(0)
    with torch.no_grad():
        got = I3D(state, bn_eps=1e-3, pool_t=1)(x).numpy().astype(np.float64)
        tats_constants = I3D(state)(x).numpy()
    total, total_abs, vals = I3D_GOLDEN
    assert got.shape == (1, 400)
    tol = 1e-4 * np.abs(vals).max()
    np.testing.assert_allclose(got.ravel()[I3D_IDX], vals, rtol=0, atol=tol)
    assert got.sum() == pytest.approx(total, abs=400 * tol)
    assert np.abs(got).sum() == pytest.approx(total_abs, rel=1e-5)
    # the two constants matter: the VideoGPT / TATS network gives other features
    assert np.abs(tats_constants - got).max() > 1e-2


def _feats(seed, n, d=400):
    r = np.random.RandomState(seed)
    return r.randn(n, d) @ (np.eye(d) + 0.1 * r.randn(d, d)) + r.randn(d)


@pytest.mark.parametrize("n", sorted(FD_GOLDEN))
def test_frechet_distance_equals_scipy_sqrtm_golden(n):
    m1, s1, _ = feature_stats([_feats(1, n)])
    m2, s2, _ = feature_stats([_feats(2, n)])
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(FD_GOLDEN[n], rel=1e-6)


@pytest.mark.media
def test_cmvq_and_disco_end_to_end(media, tmp_path, monkeypatch):
    from thgeval.run import evaluate
    from thgeval.run.store import SET_CLIP

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    state = random_state_dict(0)
    w = tmp_path / "home" / "weights"
    w.mkdir(parents=True)
    torch.save(state, w / "i3d_pretrained_400.pt")
    torch.jit.script(FloatClipDetector(I3D(state), -1.0, 1.0)).save(str(w / "i3d_torchscript.pt"))
    dirs = same_and_other(tmp_path, media)
    preds = {m: dirs[m] for m in ("same", "other")}
    res = evaluate(dirs["gt"], preds, out=tmp_path / "out", metrics="fvd@cmvq,fvd@disco",
                   cache_dir=tmp_path / "cache", workers=1)
    rows = {(r.method, r.metric_key): r for r in res.rows if r.clip == SET_CLIP}
    for key in ("fvd@cmvq", "fvd@disco"):
        assert rows[("same", key)].value == pytest.approx(0.0, abs=1e-6), key
        other = rows[("other", key)]
        assert other.status == "ok" and other.value > 0, (key, other)
        assert other.n_frames == 2, (key, other)  # one feature row per clip: the whole clip is one video
