"""SyncNet parity with the reference code (syncnet-python 0.2.3, joonson/syncnet_python's model
and SyncNetInstance), both loaded from the same random state dict saved as ``torch.save``
writes the released ``syncnet_v2.model`` (legacy serialisation).

Tolerances reached (CPU, float32): embeddings max |Δ| ≤ 1e-5 × max |e| (lip and audio);
LSE-D and LSE-C within 1e-5, identical offset, on real frames written and read as the
reference reads them; MFCC bit-equal to python_speech_features 0.6.

The reference package's own import needs more dependencies (scenedetect, opencv-contrib):
it is installed with ``pip install --no-deps syncnet-python==0.2.3`` and its files are loaded
directly.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from thgeval.metrics.audio_features import mfcc, to_int16_scale  # noqa: E402
from thgeval.metrics.lse import score_arrays, sync_scores  # noqa: E402
from thgeval.nets.syncnet import (  # noqa: E402
    SyncNetEmbedder, load_syncnet, random_state_dict, save_state_dict,
)


def _reference_module(name: str):
    spec = importlib.util.find_spec("syncnet_python")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("reference not installed: pip install --no-deps syncnet-python==0.2.3")
    path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.py"
    s = importlib.util.spec_from_file_location(f"_ref_{name}", path)
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    return save_state_dict(random_state_dict(seed=7), tmp_path_factory.mktemp("w") / "syncnet_v2.model")


@pytest.fixture(scope="module")
def reference(weights_file):
    model = _reference_module("SyncNetModel")
    inst_mod = _reference_module("SyncNetInstance")
    inst = inst_mod.SyncNetInstance(model.S(), device="cpu")
    inst.loadParameters(str(weights_file))  # the reference's own loader, copying by name
    inst.__S__.eval()
    return inst


def _close(a, b, rel=1e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.abs(b).max(), 1e-12)
    assert np.abs(a - b).max() <= rel * scale, (np.abs(a - b).max(), scale)


def test_state_dict_file_is_legacy_and_loads(weights_file):
    with open(weights_file, "rb") as f:
        assert f.read(2) != b"PK"  # not the zip container: the pre-1.6 format of the released file
    net = load_syncnet(weights_file)
    assert not net.training
    sd = torch.load(weights_file, weights_only=True)
    for k, v in net.state_dict().items():
        assert torch.equal(v, sd[k])


def test_bad_file_is_a_clear_error(tmp_path):
    from thgeval.errors import ThgevalError

    bad = tmp_path / "syncnet_v2.model"
    bad.write_bytes(b"truncated")
    with pytest.raises(ThgevalError, match="thgeval weights verify syncnet_v2"):
        load_syncnet(bad)
    torch.save({"netcnnaud.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(ThgevalError, match="not a SyncNet v2 state dict"):
        load_syncnet(bad)


def test_embeddings_equal_reference(reference, weights_file):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (13, 224, 224, 3), dtype=np.uint8)
    cc = rng.normal(0, 8, (13, 4 * 8 + 20)).astype(np.float32)
    emb = SyncNetEmbedder(weights_file, batch_size=3)  # several batches
    ours_lip = emb.lips(frames)
    ours_aud = emb.audio(cc.T, 9)
    imtv = torch.from_numpy(frames.astype(float)).float().permute(3, 0, 1, 2)[None]  # 1, 3, T, H, W
    with torch.no_grad():
        ref_lip = reference.__S__.forward_lip(torch.cat([imtv[:, :, v:v + 5] for v in range(9)]))
        cct = torch.from_numpy(cc)[None, None]
        ref_aud = reference.__S__.forward_aud(torch.cat([cct[:, :, :, 4 * v:4 * v + 20] for v in range(9)]))
    assert ours_lip.shape == (9, 1024) and ours_aud.shape == (9, 1024)
    _close(ours_lip, ref_lip.numpy())
    _close(ours_aud, ref_aud.numpy())


def test_scores_equal_reference_evaluate(reference, weights_file, media, tmp_path, capsys):
    """The reference ``evaluate`` on frames it reads from JPEG files and a WAV, ours on the same."""
    from scipy.io import wavfile

    from thgeval.io import load_clip

    clip = load_clip(media / "syncnet" / "example.avi")
    n = 48
    for i, f in enumerate(clip.frames[:n]):
        cv2.imwrite(str(tmp_path / f"{i + 1:06d}.jpg"), f[..., ::-1])
    pcm = to_int16_scale(clip.audio[: n * 640]).astype(np.int16)
    wavfile.write(tmp_path / "audio.wav", 16000, pcm)
    opt = types.SimpleNamespace(tmp_dir=str(tmp_path), batch_size=20, vshift=15)
    ref_offset, ref_conf, ref_dist = reference.evaluate(opt)
    capsys.readouterr()

    frames = np.stack([cv2.imread(str(tmp_path / f"{i + 1:06d}.jpg")) for i in range(n)])
    res = score_arrays(SyncNetEmbedder(weights_file), frames, pcm.astype(np.float64))
    assert res.offset == ref_offset
    assert abs(res.lse_d - ref_dist) <= 1e-5 * max(1.0, abs(ref_dist))
    assert abs(res.lse_c - ref_conf) <= 1e-5 * max(1.0, abs(ref_dist))
    assert res.n_windows == n - 5 and len(res.frame_conf) == n - 5


def test_mfcc_equals_python_speech_features():
    psf = pytest.importorskip("python_speech_features")
    rng = np.random.default_rng(3)
    for n in (10, 400, 401, 16000 + 17, 48000):
        sig = (rng.normal(0, 4000, n)).astype(np.int16)
        np.testing.assert_array_equal(mfcc(sig), psf.mfcc(sig, 16000))
    silent = np.zeros(2000, np.int16)
    np.testing.assert_array_equal(mfcc(silent), psf.mfcc(silent, 16000))


def test_scoring_core_closed_form():
    """Identical lip and audio embeddings: the minimum is at shift 0 and equals the eps term."""
    rng = np.random.default_rng(1)
    e = rng.normal(0, 1, (40, 1024))
    r = sync_scores(e, e)
    assert r.offset == 0 and r.lse_d == pytest.approx(np.sqrt(1024) * 1e-6, rel=1e-6)
    assert r.lse_c > 10 and len(r.curve) == 31
    # lip window i matches audio window i - 3 (the audio leads by 3): the reference says +3
    r = sync_scores(e[:-3], e[3:])
    assert r.offset == 3
    r = sync_scores(e[3:], e[:-3])  # the audio lags by 3
    assert r.offset == -3


# --- the metrics on Samples and through the run ------------------------------------------------

@pytest.fixture
def home_with_weights(tmp_path, monkeypatch, weights_file):
    import shutil

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    (tmp_path / "home" / "weights").mkdir(parents=True)
    shutil.copy(weights_file, tmp_path / "home" / "weights" / "syncnet_v2.model")
    return tmp_path / "home"


def test_skipped_without_weights(tmp_path, monkeypatch, media):
    from thgeval.metrics import resolve
    from thgeval.metrics.sample import Sample
    from thgeval.errors import MetricSkipped

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    s = Sample("m", "c", media / "voxceleb2" / "00104.mp4")
    for spec in ("lse_d", "sync_c", "av_offset@wav2lip-lrs"):
        ref = resolve(spec)
        with pytest.raises(MetricSkipped, match="thgeval weights fetch syncnet_v2"):
            ref.metric.clip_fn(s, **ref.params())


def test_eval_end_to_end_voxceleb2(home_with_weights, media, tmp_path, monkeypatch):
    """Random weights in $THGEVAL_HOME: `evaluate` scores real clips; one SyncNet pass per sample."""
    from _faces_util import patch_faces

    from thgeval.run import evaluate
    from thgeval.metrics import syncnet as sn

    patch_faces(monkeypatch)
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    for name in ("00010.mp4", "620900105.mp4"):  # the shortest clips (4.2 s, 4.3 s)
        (gt / name).symlink_to(media / "voxceleb2" / name)
    (pred / "00010.mp4").symlink_to(media / "voxceleb2" / "00010.mp4")
    (pred / "620900105.mp4").symlink_to(media / "voxceleb2" / "517600055.mp4")
    calls = []
    orig = sn._compute
    monkeypatch.setattr(sn, "_compute", lambda *a: calls.append(a[0].clip) or orig(*a))
    res = evaluate(gt=gt, preds={"m": pred}, metrics="lse_d,sync_c,av_offset", out=tmp_path / "out", workers=1)
    rows = {(r.method, r.clip, r.metric): r for r in res.rows}
    assert len(rows) == 12  # 2 clips × (m, real) × 3 metrics
    for r in rows.values():
        assert r.status == "ok", r.reason
        assert np.isfinite(r.value) and r.n_frames > 50
    assert sorted(calls) == ["00010", "00010", "620900105", "620900105"]  # one pass per sample, not per metric
    same = rows[("m", "00010", "lse_d")].value, rows[("real", "00010", "lse_d")].value
    assert same[0] == pytest.approx(same[1])
    assert -15 <= rows[("m", "620900105", "av_offset")].value <= 15
    assert rows[("m", "620900105", "lse_c")].value >= 0
    assert "curve" in rows[("m", "620900105", "lse_c")].extra
