"""``fid@clean`` against GaParmar/clean-fid 0.1.35 (``pip install clean-fid==0.1.35``, dev
extra): its resize function, its ``frechet_distance``, and its own folder pipeline
(``compute_fid(fdir1, fdir2, mode="clean", custom_feat_extractor=…)``: PNG files → its
``ResizeDataset`` → network) fed the same random FID-Inception weights.

clean-fid's released network is NVIDIA's TorchScript export of the TF Inception graph,
downloaded at runtime; no test lets it download: the end-to-end check runs clean-fid's
pipeline with ``custom_feat_extractor`` = clean-fid's own PyTorch port of the graph
(``cleanfid.inception_pytorch.InceptionV3``, its weight download patched to the shared
random state dict), normalised ``(x − 128) / 128`` as ``InceptionV3W.forward`` does.

Tolerances reached (CPU, float32 network): resize bit-identical; Fréchet distance from the
same features ≤ 1e-6 relative (asserted); features max |Δ| ≤ 1e-5 × max |f|; FID end to end 3.1e-7
relative (43.890535 vs 43.890521 on 12 + 13 frames; asserted ≤ 2e-6: float32 features through
a singular 2048-d covariance).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cleanfid = pytest.importorskip("cleanfid")

from thgeval.metrics.distribution import feature_stats, frechet_distance  # noqa: E402
from thgeval.nets.inception_fid import FIDInception, clean_resize, fid_features, random_state_dict  # noqa: E402


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Any clean-fid download attempt fails the test instead of reaching the network."""
    import cleanfid.downloads_helper as dh

    def refuse(*a, **k):
        raise AssertionError("clean-fid tried to download")

    for name in ("check_download_url", "check_download_inception", "download_file"):
        if hasattr(dh, name):
            monkeypatch.setattr(dh, name, refuse)


def test_resize_equals_clean_fid():
    from cleanfid.resize import build_resizer

    ref = build_resizer("clean")
    rng = np.random.default_rng(0)
    for shape in ((288, 360, 3), (144, 176, 3), (512, 512, 3), (299, 299, 3)):
        x = rng.integers(0, 256, shape, dtype=np.uint8)
        want = ref(x)
        got = clean_resize(x)
        assert got.dtype == want.dtype == np.float32 and got.shape == (299, 299, 3)
        np.testing.assert_array_equal(got, want)


def test_frechet_distance_equals_clean_fid():
    from cleanfid.fid import fid_from_feats, frechet_distance as ref_fd

    rng = np.random.default_rng(1)
    for d, n in ((64, 1000), (2048, 3000)):
        a = rng.normal(0, 1, (n, d)) @ rng.normal(0, 0.3, (d, d))
        b = rng.normal(0.1, 1, (n, d)) @ rng.normal(0, 0.3, (d, d))
        mu1, s1, _ = feature_stats(np.array_split(a, 5))
        mu2, s2, _ = feature_stats([b])
        ours = frechet_distance(mu1, s1, mu2, s2)
        assert ours == pytest.approx(fid_from_feats(a, b), rel=1e-6)
        assert ours == pytest.approx(ref_fd(mu1, s1, mu2, s2), rel=1e-6)


def test_variant_is_registered():
    from thgeval.metrics import resolve

    ref = resolve("fid@clean")
    assert ref.params() == {"stride": 1, "preprocess": "clean"}
    assert resolve("fid").variant.name == "pytorch-fid"  # the default is unchanged


@pytest.mark.media
def test_end_to_end_equals_clean_fid_pipeline(media, tmp_path, monkeypatch):
    from PIL import Image

    import cleanfid.inception_pytorch as cip
    from cleanfid.fid import compute_fid, get_folder_features
    from thgeval.io import load_clip

    state = random_state_dict(0)
    monkeypatch.setattr(cip, "load_state_dict_from_url", lambda *a, **k: state)
    ref_net = cip.InceptionV3(output_blocks=[3], resize_input=False, normalize_input=False).eval()

    def ref_fn(x):  # clean-fid's InceptionV3W.forward normalisation, on its PyTorch graph
        return ref_net((x - 128) / 128)[0].squeeze(-1).squeeze(-1)

    sets = {"a": load_clip(media / "carphone" / "pristine.mp4").frames[::10],
            "b": load_clip(media / "grid" / "bbaf2n.mpg").frames[::6]}
    for name, frames in sets.items():
        (tmp_path / name).mkdir()
        for i, f in enumerate(frames):
            Image.fromarray(f).save(tmp_path / name / f"{i:04d}.png")
    kw = dict(mode="clean", num_workers=0, batch_size=8, device=torch.device("cpu"), verbose=False)
    want_feats = {n: get_folder_features(str(tmp_path / n), ref_fn, **kw) for n in sets}
    want = compute_fid(str(tmp_path / "a"), str(tmp_path / "b"), custom_feat_extractor=ref_fn,
                       use_dataparallel=False, **kw)

    ours = FIDInception(state)
    feats = {n: fid_features(ours, f, batch_size=4, preprocess="clean") for n, f in sets.items()}
    for n in sets:
        scale = np.abs(want_feats[n]).max()
        assert scale > 0.1  # the random network is not degenerate
        assert np.abs(feats[n] - want_feats[n]).max() <= 1e-5 * scale, np.abs(feats[n] - want_feats[n]).max()
    mu1, s1, _ = feature_stats([feats["a"]])
    mu2, s2, _ = feature_stats([feats["b"]])
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(want, rel=2e-6)
