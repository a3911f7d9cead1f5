"""FID and KID: the FID Inception against pytorch-fid's on shared random weights, the Fréchet
distance against pytorch-fid's ``calculate_frechet_distance``, KID against torch-fidelity,
and both metrics end to end with the feature cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_fid")

from thgeval.metrics.distribution import feature_stats, frechet_distance, kid  # noqa: E402
from thgeval.nets.inception_fid import FIDInception, fid_features, random_state_dict  # noqa: E402


@pytest.fixture(scope="module")
def state():
    return random_state_dict(0)


def reference_inception(state, monkeypatch):
    import pytorch_fid.inception as ref

    monkeypatch.setattr(ref, "load_state_dict_from_url", lambda *a, **k: state)
    return ref.InceptionV3([3], resize_input=True, normalize_input=True, use_fid_inception=True).eval()


@pytest.mark.media
def test_features_equal_pytorch_fid_on_shared_random_weights(media, state, monkeypatch):
    from thgeval.io import load_clip

    ref = reference_inception(state, monkeypatch)
    ours = FIDInception(state)
    for path, step in ((media / "carphone" / "pristine.mp4", 40), (media / "grid" / "bbaf2n.mpg", 30)):
        frames = load_clip(path).frames[::step]
        got = fid_features(ours, frames, batch_size=2)
        with torch.no_grad():
            x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
            want = ref(x)[0][:, :, 0, 0].numpy()
        assert got.shape == (len(frames), 2048)
        assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max()), np.abs(got - want).max()
        assert np.abs(want).max() > 0.1  # the random network is not degenerate


def test_frechet_distance_equals_pytorch_fid():
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(1)
    for d, n in ((64, 1000), (2048, 3000)):
        a = rng.normal(0, 1, (n, d)) @ rng.normal(0, 0.3, (d, d))
        b = rng.normal(0.1, 1, (n, d)) @ rng.normal(0, 0.3, (d, d))
        mu1, s1, n1 = feature_stats(np.array_split(a, 7))
        mu2, s2, _ = feature_stats([b])
        assert n1 == n and np.allclose(mu1, a.mean(0)) and np.allclose(s1, np.cov(a, rowvar=False), atol=1e-10)
        want = calculate_frechet_distance(mu1, s1, mu2, s2)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-6)


def test_fid_of_a_set_against_itself_is_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (500, 2048)).astype(np.float32)  # fewer samples than dimensions: singular
    mu, s, _ = feature_stats([x[:200], x[200:]])
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6


def test_kid_equals_torch_fidelity():
    tf = pytest.importorskip("torch_fidelity.metric_kid")
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, (1200, 64)).astype(np.float32)
    b = rng.normal(0.2, 1, (1100, 64)).astype(np.float32)
    want = tf.kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subsets=20,
                                     kid_subset_size=500, rng_seed=2020, verbose=False)
    got, std, m = kid([a[:700], a[700:]], [b[:300], b[300:]], subsets=20, subset_size=500, seed=2020)
    assert m == 500
    # the same subsets (same RandomState draws); torch-fidelity sums the kernels in float32,
    # thgeval in float64: measured 1.9e-7 relative apart
    assert got == pytest.approx(want["kernel_inception_distance_mean"], rel=1e-6)
    assert std == pytest.approx(want["kernel_inception_distance_std"], rel=1e-5)


@pytest.mark.media
def test_fid_and_kid_end_to_end(media, tmp_path, monkeypatch, state):
    from thgeval.run import evaluate

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    for d in ("gt", "same", "other"):
        (tmp_path / d).mkdir()
    for name, gt, other in (("a", "carphone/pristine.mp4", "carphone/distorted.mp4"),
                            ("b", "grid/bbaf2n.mpg", "grid/lbax4n.mpg")):
        os.symlink(media / gt, tmp_path / "gt" / f"{name}{os.path.splitext(gt)[1]}")
        os.symlink(media / gt, tmp_path / "same" / f"{name}{os.path.splitext(gt)[1]}")
        os.symlink(media / other, tmp_path / "other" / f"{name}{os.path.splitext(other)[1]}")
    preds = {m: tmp_path / m for m in ("same", "other")}
    kw = dict(metrics="fid,kid", cache_dir=tmp_path / "cache", workers=1)
    res = evaluate(tmp_path / "gt", preds, out=tmp_path / "out", **kw)
    sets = [r for r in res.rows if r.clip == "*" or r.clip.startswith("(")] or res.rows
    assert all(r.status == "skipped" and "thgeval weights fetch inception-fid" in r.reason for r in sets), sets
    (tmp_path / "home" / "weights").mkdir(parents=True)
    torch.save(state, tmp_path / "home" / "weights" / "pt_inception-2015-12-05-6726825d.pth")
    res = evaluate(tmp_path / "gt", preds, out=tmp_path / "out", **kw)
    from thgeval.run.store import SET_CLIP

    rows = {(r.method, r.metric_key): r for r in res.rows if r.clip == SET_CLIP}
    assert rows[("same", "fid@pytorch-fid")].value == pytest.approx(0.0, abs=1e-6)
    assert rows[("other", "fid@pytorch-fid")].value > 1e-3
    assert rows[("other", "fid@pytorch-fid")].n_frames == 195 and "warning: fewer than 2048" in rows[("other", "fid@pytorch-fid")].notes
    assert rows[("other", "kid@torch-fidelity")].status == "ok"
    assert rows[("same", "kid@torch-fidelity")].value < rows[("other", "kid@torch-fidelity")].value
    # features are cached by content hash outside the output folder: a new output folder
    # decodes no frame and gives the same set rows
    res2 = evaluate(tmp_path / "gt", preds, out=tmp_path / "out2", **kw)
    assert res2.frames_decoded == 0
    again = {(r.method, r.metric_key): r.value for r in res2.rows if r.clip == SET_CLIP}
    assert again == {k: r.value for k, r in rows.items()}
