"""FVD: thgeval's I3D against cd-fvd's PyTorch I3D (the TATS / VideoGPT network) on shared
random weights and real clips, the TorchScript detector's calling convention (StyleGAN-V),
and ``fvd`` end to end."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from thgeval.nets.i3d import I3D, random_state_dict, tats_inputs  # noqa: E402


@pytest.fixture(scope="module")
def state():
    return random_state_dict(0)


def _clips(media):
    from thgeval.io import load_clip

    car = load_clip(media / "carphone" / "pristine.mp4").frames
    grid = load_clip(media / "grid" / "bbaf2n.mpg").frames
    return [car[None, 8:24], grid[None, 30:46]]


@pytest.mark.media
def test_i3d_equals_cd_fvd_on_shared_random_weights(media, state):
    ref_mod = pytest.importorskip("cdfvd.third_party.i3d.pytorch_i3d")
    ref_utils = pytest.importorskip("cdfvd.third_party.i3d.utils")
    ref = ref_mod.InceptionI3d(400, in_channels=3)
    ref.load_state_dict(state)
    ref.eval()
    ours = I3D(state)
    for clip in _clips(media):
        with torch.no_grad():
            want = ref(ref_utils.preprocess_i3d(clip)).numpy()
            got = ours(tats_inputs(clip, 224)).numpy()
        assert got.shape == want.shape == (1, 400)
        assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max()), np.abs(got - want).max()
        assert np.abs(want).std() > 1e-3  # not a degenerate random network


class _Detector(torch.nn.Module):
    """A TorchScript stand-in with StyleGAN-V's detector signature: it refuses any other call."""

    def __init__(self, net: I3D):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, rescale: bool = True, resize: bool = True,
                return_features: bool = False) -> torch.Tensor:
        if rescale or resize or not return_features:
            raise RuntimeError("StyleGAN-V calls the detector with rescale=False, resize=False, return_features=True")
        if x.dtype != torch.uint8 or x.shape[1] != 3 or x.shape[2] != 16:
            raise RuntimeError("expected uint8 N×3×16×H×W")
        v = x.float()
        b, c, t, h, w = v.shape
        f = v.transpose(1, 2).reshape(b * t, c, h, w)
        f = torch.nn.functional.interpolate(f, size=(224, 224), mode="bilinear", align_corners=False)
        return self.net(2.0 * f.reshape(b, t, c, 224, 224).transpose(1, 2) / 255.0 - 1.0)


@pytest.mark.media
def test_fvd_end_to_end(media, tmp_path, monkeypatch, state):
    from thgeval.run import evaluate
    from thgeval.run.store import SET_CLIP

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    for d in ("gt", "same", "other"):
        (tmp_path / d).mkdir()
    for name, gt, other in (("a", "carphone/pristine.mp4", "carphone/distorted.mp4"),
                            ("b", "grid/bbaf2n.mpg", "grid/lbax4n.mpg")):
        ext = os.path.splitext(gt)[1]
        os.symlink(media / gt, tmp_path / "gt" / f"{name}{ext}")
        os.symlink(media / gt, tmp_path / "same" / f"{name}{ext}")
        os.symlink(media / other, tmp_path / "other" / f"{name}{os.path.splitext(other)[1]}")
    preds = {m: tmp_path / m for m in ("same", "other")}
    kw = dict(metrics="fvd,fvd@tats", cache_dir=tmp_path / "cache", workers=1)
    res = evaluate(tmp_path / "gt", preds, out=tmp_path / "out", **kw)
    sets = [r for r in res.rows if r.clip == SET_CLIP]
    assert {r.status for r in sets} == {"skipped"}
    assert any("thgeval weights fetch i3d-torchscript" in r.reason for r in sets)
    assert any("thgeval weights fetch i3d-kinetics400" in r.reason for r in sets)
    w = tmp_path / "home" / "weights"
    w.mkdir(parents=True)
    torch.save(state, w / "i3d_pretrained_400.pt")
    torch.jit.script(_Detector(I3D(state))).save(str(w / "i3d_torchscript.pt"))
    res = evaluate(tmp_path / "gt", preds, out=tmp_path / "out", **kw)
    rows = {(r.method, r.metric_key): r for r in res.rows if r.clip == SET_CLIP}
    for key in ("fvd@stylegan-v", "fvd@tats"):
        assert rows[("same", key)].value == pytest.approx(0.0, abs=1e-6), key
        other = rows[("other", key)]
        assert other.status == "ok" and other.value > 0 and other.n_frames == 11, (key, other)
        assert "warning: fewer than 400 clip windows" in other.notes
    # the stand-in detector does what the tats path does: the two variants agree here
    assert rows[("other", "fvd@stylegan-v")].value == pytest.approx(rows[("other", "fvd@tats")].value, rel=1e-4)
