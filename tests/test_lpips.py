"""LPIPS: parity with the ``lpips`` package (same random backbone, the package's own v0.1 heads)
on real frame pairs, weights lookup, and ``lpips`` / ``lpips_face`` end to end."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lpips_ref = pytest.importorskip("lpips")

from thgeval.nets.lpips import LPIPS, lpips_distances, to_unit_range  # noqa: E402


def reference_model(net: str, seed: int = 0):
    torch.manual_seed(seed)
    return lpips_ref.LPIPS(net=net, pnet_rand=True, verbose=False).eval()


def torchvision_state(ref) -> dict:
    """The reference's random backbone as a torchvision ``features.*`` state dict."""
    out = {}
    for k, v in ref.net.state_dict().items():
        m = re.match(r"slice\d+\.(\d+)\.(.+)", k)
        out[f"features.{m.group(1)}.{m.group(2)}"] = v.clone()
    return out


def heads_file(net: str) -> str:
    return os.path.join(os.path.dirname(lpips_ref.__file__), "weights", "v0.1", f"{net}.pth")


def _frame_pairs(media):
    from thgeval.io import load_clip

    a = load_clip(media / "carphone" / "pristine.mp4").frames[::40]
    b = load_clip(media / "carphone" / "distorted.mp4").frames[::40]
    g = load_clip(media / "grid" / "bbaf2n.mpg").frames
    return [(a, b), (g[:3], g[30:33])]


@pytest.mark.media
@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_parity_with_the_lpips_package(media, net):
    ref = reference_model(net)
    ours = LPIPS(net, backbone=torchvision_state(ref), heads=heads_file(net))
    for pred, gt in _frame_pairs(media):
        want = ref(to_unit_range(pred, "cpu"), to_unit_range(gt, "cpu")).detach().numpy().reshape(-1)
        got = lpips_distances(ours, pred, gt, batch_size=2)
        assert np.abs(got - want).max() <= 1e-5 * max(1.0, np.abs(want).max()), (got, want)
        assert (got > 0).all()
        assert np.allclose(lpips_distances(ours, gt, gt), 0.0, atol=1e-7)


def test_misshapen_weights_are_refused():
    from thgeval.errors import ThgevalError

    with pytest.raises(ThgevalError, match="not a torchvision alex"):
        LPIPS("alex", backbone={"features.0.weight": torch.zeros(3, 3, 3, 3)})
    with pytest.raises(ThgevalError, match="not LPIPS v0.1 alex heads"):
        LPIPS("alex", heads={"lin0.model.1.weight": torch.zeros(1, 3, 1, 1)})


def test_heads_are_found_in_the_installed_lpips_package(tmp_path, monkeypatch):
    from thgeval import weights

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    assert weights.find("lpips-alex-v0.1") == __import__("pathlib").Path(heads_file("alex"))
    assert weights.find("alexnet-torchvision") is None


@pytest.mark.media
def test_lpips_metrics_end_to_end(media, tmp_path, monkeypatch):
    from thgeval.run import evaluate

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    for d in ("gt", "jpeg"):
        (tmp_path / d).mkdir()
    os.symlink(media / "carphone" / "pristine.mp4", tmp_path / "gt" / "carphone.mp4")
    os.symlink(media / "carphone" / "distorted.mp4", tmp_path / "jpeg" / "carphone.mp4")
    os.symlink(media / "grid" / "bbaf2n.mpg", tmp_path / "gt" / "grid.mpg")
    os.symlink(media / "grid" / "bbaf2n.mpg", tmp_path / "jpeg" / "grid.mpg")
    kw = dict(metrics="lpips,lpips_face", cache_dir=tmp_path / "cache", workers=1)
    res = evaluate(tmp_path / "gt", {"jpeg": tmp_path / "jpeg"}, out=tmp_path / "out", **kw)
    for r in res.rows:
        assert r.status == "skipped" and "thgeval weights fetch alexnet-torchvision" in r.reason, r
    (tmp_path / "home" / "weights").mkdir(parents=True)
    torch.save(torchvision_state(reference_model("alex")), tmp_path / "home" / "weights" / "alexnet-owt-7be5be79.pth")
    res = evaluate(tmp_path / "gt", {"jpeg": tmp_path / "jpeg"}, out=tmp_path / "out", **kw)
    rows = {(r.clip, r.metric_key): r for r in res.rows}
    assert rows[("grid", "lpips@alex")].value == 0.0  # a clip against itself
    assert rows[("grid", "lpips_face@alex")].value == 0.0
    car = rows[("carphone", "lpips@alex")]
    assert car.status == "ok" and car.value > 0 and car.n_frames == 120
    assert rows[("carphone", "lpips_face@alex")].status in ("ok", "skipped")
