"""Clip-level and set-level metrics through the run: samples, decoding once, set rows, resume.

The metrics here are registered by the test (arithmetic with known answers), so the engine's
plumbing is checked independently of any real metric family.
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.errors import MetricSkipped
from thgeval.io import write_clip
from thgeval.metrics import CLIP, SET, ClipValue, Metric, SetValue, Variant, register
from thgeval.metrics import registry
from thgeval.metrics.sample import GT, PRED
from thgeval.report import write_outputs
from thgeval.run import evaluate

from conftest import moving_frames

CALLS = {"features": 0}


def _absdiff(sample, **_):
    c = sample.conformed()
    d = np.abs(c.pred.astype(float) - c.gt.astype(float)).mean(axis=(1, 2, 3))
    return ClipValue(float(d.mean()), n_frames=len(d), series=d, notes=c.notes)


def _length(sample, **_):
    a = sample.audio(PRED)
    extra = {"audio_s": 0.0 if a is None else len(a) / 16000}
    return ClipValue(float(len(sample.frames(PRED))), n_frames=len(sample.frames(PRED)), extra=extra)


def _needs_audio(sample, **_):
    audio, note = sample.driving_audio()
    return ClipValue(float(len(audio)), n_frames=0, notes=[note])


def _mean_colour(sample, side, scale=1.0):
    CALLS["features"] += 1
    return sample.frames(side).reshape(len(sample.frames(side)), -1, 3).mean(axis=1) * scale


def _mean_gap(pred_feats, gt_feats, scale=1.0, offset=0.0):
    p = np.concatenate(list(pred_feats)).mean(axis=0)
    g = np.concatenate(list(gt_feats)).mean(axis=0)
    n = sum(len(f) for f in pred_feats)
    return SetValue(float(np.abs(p - g).sum()) + offset, n_clips=len(pred_feats), n_items=n)


TOYS = [
    Metric(name="toy_absdiff", title="AbsDiff", higher_is_better=False, needs=frozenset({"gt"}), kind=CLIP,
           clip_fn=_absdiff, variants={"v": Variant("v", {}, "test")}, default_variant="v", version="1"),
    Metric(name="toy_length", title="Length", higher_is_better=True, needs=frozenset(), kind=CLIP,
           clip_fn=_length, variants={"v": Variant("v", {}, "test")}, default_variant="v", version="1"),
    Metric(name="toy_audio", title="Audio", higher_is_better=True, needs=frozenset({"audio"}), kind=CLIP,
           clip_fn=_needs_audio, variants={"v": Variant("v", {}, "test")}, default_variant="v", version="1"),
    Metric(name="toy_gap", title="Gap", higher_is_better=False, needs=frozenset({"gt"}), kind=SET,
           features_fn=_mean_colour, set_fn=_mean_gap,
           variants={"v": Variant("v", {"scale": 1.0}, "test"),
                     "offset": Variant("offset", {"scale": 1.0, "offset": 5.0}, "test")},
           default_variant="v", version="1"),
]


@pytest.fixture(scope="module", autouse=True)
def toys():
    registry._load_builtin()
    for m in TOYS:
        register(m)
    yield
    for m in TOYS:
        registry._REGISTRY.pop(m.name, None)


@pytest.fixture
def bench(tmp_path):
    gt, a, b = tmp_path / "gt", tmp_path / "a", tmp_path / "b"
    for i in range(3):
        f = moving_frames(20, h=48, w=64, seed=i)
        write_clip(gt / f"c{i}.mp4", f, 25, lossless=True)
        write_clip(a / f"c{i}.mp4", f, 25, lossless=True)
        write_clip(b / f"c{i}.mp4", np.clip(f.astype(int) + 30, 0, 255).astype(np.uint8), 25, lossless=True)
    (b / "broken.mp4").write_bytes(b"not a video")
    return tmp_path


def _rows(result):
    return {(r.method, r.clip, r.metric, r.variant): r for r in result.rows}


def test_clip_and_set_metrics_end_to_end(bench):
    CALLS["features"] = 0
    kw = dict(metrics="psnr,toy_absdiff,toy_length,toy_audio,toy_gap,toy_gap@offset", out=bench / "out",
              workers=1, cache_dir=bench / "cache")
    r = evaluate(bench / "gt", {"a": bench / "a", "b": bench / "b"}, **kw)
    rows = _rows(r)
    assert rows[("a", "c0", "toy_absdiff", "v")].value == pytest.approx(0.0, abs=1e-9)
    assert rows[("b", "c0", "toy_absdiff", "v")].value > 20
    assert rows[("b", "c0", "toy_absdiff", "v")].n_frames == 20
    # no-reference clip metrics also score GT clips (the real row); without audio: skipped, with a reason
    assert rows[("real", "c1", "toy_length", "v")].value == 20
    assert rows[("a", "c1", "toy_audio", "v")].status == "skipped"
    assert "no audio" in rows[("a", "c1", "toy_audio", "v")].reason
    # set rows: one per method, values from the features of every clip
    ga, gb = rows[("a", "*", "toy_gap", "v")], rows[("b", "*", "toy_gap", "v")]
    assert ga.value == pytest.approx(0.0, abs=1e-6) and gb.value > 60
    assert ga.extra["n_clips"] == 3 and ga.n_frames == 60
    assert rows[("b", "*", "toy_gap", "offset")].value == pytest.approx(gb.value + 5.0)
    assert "1 of 4 clips without features left out" in gb.notes  # broken.mp4
    assert rows[("b", "broken", "toy_gap", "v")].status == "failed"
    # fid-like sharing: both variants' features come from one extraction per clip content:
    # 3 GT + 3 b (method a's clips are byte-identical to GT's, so their features are GT's)
    assert CALLS["features"] == 6
    # leaderboard: set metrics show the set value
    board, _ = write_outputs(r)
    ref = next(x for x in board.metrics if x.key == "toy_gap@v")
    assert board.cell("b", ref).mean == pytest.approx(gb.value) and board.cell("b", ref).n == 3
    # second run: nothing computed, the feature cache untouched
    r2 = evaluate(bench / "gt", {"a": bench / "a", "b": bench / "b"}, **kw)
    assert r2.computed == 0 and CALLS["features"] == 6 and r2.frames_decoded == 0
    assert _rows(r2)[("b", "*", "toy_gap", "v")].value == gb.value
    # a new output folder reuses the cached features (GT side computed once per dataset)
    evaluate(bench / "gt", {"a": bench / "a"}, **{**kw, "out": bench / "out2"})
    assert CALLS["features"] == 6


def test_clip_metrics_decode_each_clip_once(bench):
    r = evaluate(bench / "gt", {"a": bench / "a"}, metrics="psnr,cpbd,toy_absdiff,toy_length", out=bench / "o",
                 workers=1, cache_dir=bench / "cache")
    # per clip: GT once (shared by real row, psnr and toy metrics) + pred once
    assert r.frames_decoded == 3 * (20 + 20)
    assert all(x.status == "ok" for x in r.rows if x.clip != "broken")


def test_driving_audio_falls_back_to_gt(tmp_path):
    f = moving_frames(25, h=48, w=64)
    tone = (0.1 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    write_clip(tmp_path / "gt" / "x.mp4", f, 25, audio=tone)
    write_clip(tmp_path / "p" / "x.mp4", f, 25)
    r = evaluate(tmp_path / "gt", {"p": tmp_path / "p"}, metrics="toy_audio", out=tmp_path / "o", workers=1,
                 cache_dir=tmp_path / "cache")
    row = _rows(r)[("p", "x", "toy_audio", "v")]
    # AAC pads to whole 1024-sample frames (plus priming): within two frames of 1 s
    assert row.status == "ok" and abs(row.value - 16000) <= 2048 and "GT's audio used" in row.notes


def test_sample_errors_are_clear(tmp_path):
    from thgeval.metrics.sample import Sample

    f = moving_frames(5, h=32, w=32)
    write_clip(tmp_path / "x.mp4", f, 25, lossless=True)
    s = Sample("m", "x", tmp_path / "x.mp4")
    with pytest.raises(MetricSkipped, match="no GT clip"):
        s.frames(GT)
    assert s.memo("k", lambda: 1) == 1 and s.memo("k", lambda: 2) == 1
