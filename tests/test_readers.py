"""Lip readers through Samples: WER from a reader (skipped with the fetch command without
weights, computed with random weights), --hyp without weights, plug-in readers, and
lipread_agreement. Face tracks come from dlib until thgeval.face is merged."""

from __future__ import annotations

import numpy as np
import pytest
from _landmarks_util import Track, dlib_landmarks, have_dlib

from thgeval.errors import MetricSkipped
from thgeval.metrics import get_metric, resolve
from thgeval.metrics.lipread import feature_agreement
from thgeval.metrics.sample import MediaCache, Sample
from thgeval.nets.readers import Reader, get_reader, register_reader, readers

torch = pytest.importorskip("torch")


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    d = tmp_path / "weights"
    d.mkdir()
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(d))
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    for r in readers():
        if hasattr(r, "_models"):
            r._models.clear()
    yield d
    for r in readers():
        if hasattr(r, "_models"):
            r._models.clear()


def random_lipnet(folder):
    from thgeval.nets.lipnet import LipNet
    from thgeval.weights import get

    torch.manual_seed(0)
    path = folder / get("lipnet-grid-unseen").filename
    torch.save(LipNet((128, 64)).state_dict(), path)
    return path


@pytest.fixture
def dlib_faces(monkeypatch):
    if not have_dlib():
        pytest.skip("dlib and face_recognition_models not installed")
    cache = {}

    def face(self, path, options):
        if path not in cache:
            cache[path] = Track(dlib_landmarks(self.decoded(path).frames))
        return cache[path]

    monkeypatch.setattr(MediaCache, "face", face)
    return cache


def grid_sample(media, pred="bbaf2n", gt="bbaf2n", hypothesis=None, media_cache=None):
    return Sample("m", "s1/" + gt, media / "grid" / f"{pred}.mpg", media / "grid" / f"{gt}.mpg",
                  transcript="bin blue at f two now", hypothesis=hypothesis, media=media_cache)


@pytest.mark.media
def test_wer_skips_with_fetch_command_and_hyp_always_works(media, weights_dir):
    wer = get_metric("wer")
    with pytest.raises(MetricSkipped, match="thgeval weights fetch lipnet-grid-unseen"):
        wer.clip_fn(grid_sample(media), **resolve("wer").params())
    v = wer.clip_fn(grid_sample(media, hypothesis="bin blue at f two"), **resolve("wer").params())
    assert v.value == pytest.approx(1 / 6) and v.extra["source"] == "hyp"


@pytest.mark.media
@pytest.mark.slow
def test_wer_and_agreement_from_lipnet_with_random_weights(media, weights_dir, dlib_faces):
    random_lipnet(weights_dir)
    cache = MediaCache()
    s = grid_sample(media, media_cache=cache)
    v = get_metric("wer").clip_fn(s, **resolve("wer").params())
    assert v.extra["source"] == "lipnet-grid-unseen" and v.n_frames == 6 and np.isfinite(v.value)
    assert set(v.extra["hypothesis"]) <= set("abcdefghijklmnopqrstuvwxyz ")
    c = get_metric("cer").clip_fn(s, **resolve("cer").params())
    assert c.extra["hypothesis"] == v.extra["hypothesis"]  # read once per clip job
    # the same clip on both sides: the reader sees the same thing
    same = get_metric("lipread_agreement").clip_fn(s, **resolve("lipread_agreement").params())
    assert same.value == pytest.approx(1.0, abs=1e-6) and same.n_frames == 75
    other = grid_sample(media, pred="lrwp9a", media_cache=cache)
    diff = get_metric("lipread_agreement").clip_fn(other, **resolve("lipread_agreement").params())
    assert -1.0 <= diff.value < 0.999 and diff.extra["reader"] == "lipnet-grid-unseen"
    f = get_reader().features_sample(s, "pred")
    assert f.shape == (75, 512)


class EchoReader(Reader):
    """A plug-in reader that 'reads' a fixed sentence and a constant feature per frame."""

    name, title, fps = "echo-test", "echo", 25.0

    def transcribe(self, frames, landmarks, valid, *, device="cpu"):
        return "bin blue at f two now" if len(frames) == 75 else "set"

    def features(self, frames, landmarks, valid, *, device="cpu"):
        return np.tile(frames.mean(axis=(1, 2)), (1, 2))


@pytest.mark.media
def test_plugin_reader(media, monkeypatch):
    if "echo-test" not in {r.name for r in readers()}:
        register_reader(EchoReader())

    class NoFace:
        landmarks = np.zeros((75, 68, 2))
        valid = np.ones(75, bool)

    monkeypatch.setattr(MediaCache, "face", lambda self, path, options: NoFace())
    v = get_metric("wer").clip_fn(grid_sample(media), aggregation="corpus", reader="echo-test")
    assert v.value == 0.0 and v.extra["source"] == "echo-test"
    # --hyp given but the variant names a reader: the reader is used (one source per column)
    v = get_metric("wer").clip_fn(grid_sample(media, hypothesis="x"), reader="echo-test")
    assert v.extra["source"] == "echo-test"
    a = get_metric("lipread_agreement").clip_fn(grid_sample(media, pred="lrwp9a"), reader="echo-test")
    assert 0.9 < a.value <= 1.0


def test_feature_agreement():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 4))
    v, s = feature_agreement(a, a)
    assert v == pytest.approx(1.0) and s.shape == (10,)
    v, s = feature_agreement(a, -a[:7])
    assert v == pytest.approx(-1.0) and s.shape == (7,)
    with pytest.raises(ValueError):
        feature_agreement(a, a[:, :3])
