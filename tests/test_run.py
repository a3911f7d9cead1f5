"""Evaluation runs: pairing, conforming, bad input, the store, resume, outputs, exit codes."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import av
import numpy as np
import pytest

from thgeval.cli import main
from thgeval.io import write_clip
from thgeval.run import ConformPolicy, evaluate
from thgeval.run.pairing import pair_manifest

from conftest import moving_frames

METRICS = "psnr,ssim,cpbd"


def _rows(result):
    return {(r.method, r.clip, r.metric): r for r in result.rows}


@pytest.fixture
def bench(tmp_path):
    gt, good, bad = tmp_path / "gt", tmp_path / "good", tmp_path / "bad"
    for i in range(4):
        f = moving_frames(24, h=72, w=96, seed=i)
        write_clip(gt / f"c{i}.mp4", f, 25, lossless=True)
        noisy = np.clip(f + np.random.default_rng(i).normal(0, 4, f.shape), 0, 255).astype(np.uint8)
        write_clip(good / f"c{i}.mp4", noisy, 25, lossless=True)
        blurry = np.clip(f.astype(int) // 2 + 60, 0, 255).astype(np.uint8)
        write_clip(bad / f"c{i}.mp4", blurry, 25, lossless=True)
    return tmp_path


def test_eval_ranks_and_stores(bench):
    out = bench / "out"
    r = evaluate(bench / "gt", {"good": bench / "good", "bad": bench / "bad"}, metrics=METRICS, out=out, workers=2)
    rows = _rows(r)
    assert len(r.rows) == 4 * (2 * 3 + 1)  # 2 methods × 3 metrics + the real CPBD row, per clip
    assert all(x.status == "ok" for x in r.rows), [x.reason for x in r.rows if x.status != "ok"]
    assert rows[("good", "c0", "psnr")].value > rows[("bad", "c0", "psnr")].value
    assert ("real", "c0", "cpbd") in rows and ("real", "c0", "psnr") not in rows
    assert rows[("good", "c0", "psnr")].n_frames == 24
    # per-frame series beside the store
    from thgeval.run import load_series

    s = load_series(out / "series" / "good" / "c0.npz")
    assert s["psnr@skimage"].shape == (24,)
    assert abs(s["psnr@skimage"].mean() - rows[("good", "c0", "psnr")].value) < 1e-3


def test_second_identical_run_computes_nothing(bench):
    kw = dict(metrics=METRICS, out=bench / "out", workers=1)
    a = evaluate(bench / "gt", {"good": bench / "good"}, **kw)
    b = evaluate(bench / "gt", {"good": bench / "good"}, **kw)
    assert a.computed == len(a.rows) and b.computed == 0 and b.frames_decoded == 0
    assert b.reused == len(a.rows)
    assert {k: v.value for k, v in _rows(a).items()} == {k: v.value for k, v in _rows(b).items()}
    # a changed input is recomputed, and only that one
    f = moving_frames(24, h=72, w=96, seed=9)
    write_clip(bench / "good" / "c1.mp4", f, 25, lossless=True)
    c = evaluate(bench / "gt", {"good": bench / "good"}, **kw)
    assert c.computed == 3 and {(x.method, x.clip) for x in c.rows if x.status == "ok"} >= {("good", "c1")}


def test_interrupted_run_resumes_without_losing_rows(bench):
    kw = dict(metrics=METRICS, out=bench / "out", workers=1)
    seen = []

    def stop_after_two(p):
        seen.append(p.clip)
        assert p.total == 4 and p.failed == 0 and p.rate > 0 and p.eta is not None and "clips/s" in p.line()
        if p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(bench / "gt", {"good": bench / "good"}, progress=stop_after_two, **kw)
    r = evaluate(bench / "gt", {"good": bench / "good"}, **kw)
    assert r.reused == 2 * 4 and r.computed == 2 * 4  # two clips kept, two computed now
    assert len(r.rows) == 16 and all(x.status == "ok" for x in r.rows)


def test_killed_process_resumes(bench):
    # Eight longer clips so the kill lands mid-run.
    gt, pred = bench / "kgt", bench / "kpred"
    for i in range(8):
        f = moving_frames(150, h=144, w=176, seed=i)
        write_clip(gt / f"k{i}.mp4", f, 25, lossless=True)
        write_clip(pred / f"k{i}.mp4", f[::-1].copy(), 25, lossless=True)
    out = bench / "kout"
    cmd = [sys.executable, "-m", "thgeval.cli", "eval", "--gt", str(gt), "--pred", f"m={pred}",
           "--metrics", "psnr,ssim", "--out", str(out), "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "thgeval.sqlite"
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as c:
                    n = c.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.Error:
                n = 0
            if n >= 2:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = evaluate(gt, {"m": pred}, metrics="psnr,ssim", out=out, workers=1)
    assert len(r.rows) == 16 and all(x.status == "ok" for x in r.rows)
    assert r.reused >= 2 and r.reused + r.computed == 16


def _no_video(path):
    with av.open(str(path), "w") as out:
        s = out.add_stream("aac", rate=16000)
        s.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.float32), format="flt", layout="mono")
        af.sample_rate = 16000
        for pk in list(s.encode(af)) + list(s.encode()):
            out.mux(pk)


@pytest.fixture
def messy(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    base = {n: moving_frames(25, h=64, w=80, seed=i) for i, n in enumerate(
        ["empty", "text", "cut", "audio_only", "gray", "odd", "fps30", "short", "big", "missing"])}
    for name, f in base.items():
        write_clip(gt / f"{name}.mp4", f, 25, lossless=True)
    pred.mkdir()
    (pred / "empty.mp4").write_bytes(b"")
    (pred / "text.mp4").write_text("not a video at all\n" * 50)
    data = write_clip(pred / "cut.mp4", base["cut"], 25).read_bytes()
    (pred / "cut.mp4").write_bytes(data[: len(data) // 2])
    _no_video(pred / "audio_only.mp4")
    gray = base["gray"].mean(axis=3).astype(np.uint8)
    with av.open(str(pred / "gray.mkv"), "w") as out:
        s = out.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 80, 64, "gray"
        for g in gray:
            for pk in s.encode(av.VideoFrame.from_ndarray(g, format="gray")):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    import cv2

    odd = np.stack([cv2.resize(f, (79, 63), interpolation=cv2.INTER_AREA) for f in base["odd"]])
    write_clip(pred / "odd.mp4", odd, 25, lossless=True)
    # 30 fps over the same second: frame k shows GT frame round(k·25/30)
    idx = np.minimum(np.floor(np.arange(30) * 25 / 30 + 0.5).astype(int), 24)
    write_clip(pred / "fps30.mp4", base["fps30"][idx], 30, lossless=True)
    write_clip(pred / "short.mp4", base["short"][:15], 25, lossless=True)
    big = np.stack([cv2.resize(f, (160, 128), interpolation=cv2.INTER_CUBIC) for f in base["big"]])
    write_clip(pred / "big.mp4", big, 25, lossless=True)
    write_clip(pred / "extra.mp4", base["big"], 25, lossless=True)  # no GT of that name
    return tmp_path


def test_every_bad_input_is_one_line_and_the_run_goes_on(messy, capsys):
    out = messy / "out"
    code = main(["eval", "--gt", str(messy / "gt"), "--pred", f"m={messy / 'pred'}", "--metrics", METRICS,
                 "--out", str(out), "--workers", "2", "-q"])
    text = capsys.readouterr().out
    assert code == 1  # some clips failed; documented in --help
    with open(out / "per_clip.csv") as f:
        rows = {(r["method"], r["clip"], r["metric"]): r for r in csv.DictReader(f)}
    def st(clip, metric="psnr"):
        r = rows[("m", clip, metric)]
        return r["status"], r["reason"], r["notes"]

    assert st("empty")[:2] == ("failed", f"{messy / 'pred' / 'empty.mp4'}: empty file (0 bytes)")
    assert st("text")[0] == "failed" and "not a video" in st("text")[1]
    assert st("cut")[0] == "failed" and "truncated" in st("cut")[1]
    assert st("audio_only")[0] == "failed" and "no video stream" in st("audio_only")[1]
    assert st("missing")[0] == "failed" and "missing prediction" in st("missing")[1]
    for clip in ("gray", "odd", "fps30", "short", "big"):
        assert st(clip)[0] == "ok", (clip, st(clip))
    assert "grayscale" in st("gray")[2]
    assert "resized" in st("odd")[2] and "resized" in st("big")[2]
    assert "resampled" in st("fps30")[2]
    assert "15 common frames" in st("short")[2] and rows[("m", "short", "psnr")]["n_frames"] == "15"
    # conforming undoes the fps change exactly: every compared frame is the same GT frame
    assert float(rows[("m", "fps30", "psnr")]["value"]) > 45
    # a pred without GT: full-reference metrics skipped with the reason, no-reference ones computed
    assert rows[("m", "extra", "psnr")]["status"] == "skipped" and "no GT" in rows[("m", "extra", "psnr")]["reason"]
    assert rows[("m", "extra", "cpbd")]["status"] == "ok"
    # every failure is printed as one line
    for clip in ("empty", "text", "cut", "audio_only", "missing"):
        lines = [l for l in text.splitlines() if l.startswith("failed:") and f"m/{clip}:" in l]
        assert len(lines) == 1, (clip, text)
    assert "warning:" in text and "extra" in text


def test_no_reference_value_does_not_depend_on_what_else_is_asked(messy):
    """CPBD scores the prediction's own 30 fps frames whether or not PSNR needs them at 25."""
    alone = evaluate(messy / "gt", {"m": messy / "pred"}, metrics="cpbd", out=messy / "a", workers=1)
    both = evaluate(messy / "gt", {"m": messy / "pred"}, metrics="cpbd,psnr", out=messy / "b", workers=1)
    a, b = _rows(alone)[("m", "fps30", "cpbd")], _rows(both)[("m", "fps30", "cpbd")]
    assert a.status == b.status == "ok" and a.value == b.value and a.n_frames == b.n_frames == 30
    assert _rows(both)[("m", "fps30", "psnr")].n_frames == 25


def test_error_policies_fail_the_clip(messy):
    pol = ConformPolicy(fps="error", size="error", length="error")
    r = evaluate(messy / "gt", {"m": messy / "pred"}, metrics="psnr", out=messy / "o2", workers=1, policy=pol)
    rows = _rows(r)
    assert rows[("m", "fps30", "psnr")].status == "failed" and "fps differ" in rows[("m", "fps30", "psnr")].reason
    assert "sizes differ" in rows[("m", "big", "psnr")].reason
    assert "lengths differ" in rows[("m", "short", "psnr")].reason


def test_manifest_pairs(tmp_path, bench):
    m = tmp_path / "pairs.csv"
    m.write_text("method,pred,gt\n"
                 f"good,{bench / 'good' / 'c0.mp4'},{bench / 'gt' / 'c0.mp4'}\n"
                 f"good,{bench / 'good' / 'c1.mp4'},{bench / 'gt' / 'c1.mp4'}\n"
                 f"nogt,{bench / 'bad' / 'c2.mp4'},\n")
    p = pair_manifest(m)
    assert p.methods == ["good", "nogt"] and len(p.pairs) == 3
    r = evaluate(manifest=m, metrics="psnr,cpbd", out=tmp_path / "o", workers=1)
    rows = _rows(r)
    assert rows[("good", "c0", "psnr")].status == "ok"
    assert rows[("nogt", "c2", "psnr")].status == "skipped" and rows[("nogt", "c2", "cpbd")].status == "ok"


def test_output_files(bench, capsys):
    out = bench / "out"
    code = main(["eval", "--gt", str(bench / "gt"), "--pred", f"good={bench / 'good'}", "--pred",
                 f"bad={bench / 'bad'}", "--metrics", "psnr,ssim@skimage-uniform7,cpbd", "--out", str(out), "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "PSNR" in printed and "↑" in printed
    for name in ("thgeval.sqlite", "per_clip.csv", "leaderboard.md", "leaderboard.csv", "leaderboard.json",
                 "evaluation_card.json"):
        assert (out / name).is_file(), name
    board = json.loads((out / "leaderboard.json").read_text())
    cell = board["methods"]["good"]["psnr@skimage"]
    assert cell["n"] == 4 and cell["ci_low"] <= cell["mean"] <= cell["ci_high"]
    assert board["methods"]["bad"]["ssim@skimage-uniform7"]["n"] == 4
    card = json.loads((out / "evaluation_card.json").read_text())
    assert card["versions"]["thgeval"] and "numpy" in card["versions"]["dependencies"]
    assert {m["variant"] for m in card["config"]["metrics"]} == {"skimage", "skimage-uniform7", "cpbd"}
    md = (out / "leaderboard.md").read_text()
    assert "| real |" in md and "PSNR [dB] ↑ (skimage)" in md


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["eval", "--gt", str(tmp_path), "--pred", f"m={tmp_path}", "--metrics", "ssmi"]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'ssmi'" in err and "did you mean 'ssim'" in err and len(err.strip().splitlines()) == 1
    assert main(["eval", "--gt", str(tmp_path / "nope"), "--pred", f"m={tmp_path}"]) == 2
    assert main(["eval", "--gt", str(tmp_path), "--pred", f"m={tmp_path}", "--metrics", "ssim@nope"]) == 2


def test_metrics_command(capsys):
    assert main(["metrics", "--json"]) == 0
    items = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert {"psnr", "ssim", "ms_ssim", "cpbd"} <= set(items)
    assert items["cpbd"]["needs"] == ["nothing (no reference)"] and items["psnr"]["needs"] == ["gt"]
    assert items["ssim"]["default"] == "skimage-gaussian" and "skimage-uniform7" in items["ssim"]["variants"]


@pytest.mark.media
def test_carphone_acceptance(media, tmp_path):
    """The issue's acceptance check: PSNR ≈ 23.07 dB, SSIM equal to scikit-image's."""
    skm = pytest.importorskip("skimage.metrics")
    gt, pred = tmp_path / "G", tmp_path / "P"
    gt.mkdir(), pred.mkdir()
    os.symlink(media / "carphone" / "pristine.mp4", gt / "carphone.mp4")
    os.symlink(media / "carphone" / "distorted.mp4", pred / "carphone.mp4")
    r = evaluate(gt, {"jpeg": pred}, metrics="psnr,ssim", out=tmp_path / "out", workers=1)
    rows = _rows(r)
    assert abs(rows[("jpeg", "carphone", "psnr")].value - 23.07) < 0.01
    from thgeval.io import load_clip

    a, b = load_clip(gt / "carphone.mp4").frames, load_clip(pred / "carphone.mp4").frames
    ref = np.mean([skm.structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                             data_range=255, channel_axis=-1) for x, y in zip(a, b)])
    assert abs(rows[("jpeg", "carphone", "ssim")].value - ref) < 1e-4


def test_streamed_run_shares_ssim_and_ms_ssim_finest_scale(tmp_path, monkeypatch):
    """Through the whole engine (the streamed path), SSIM and MS-SSIM are fed the same chunk
    objects and compute their common finest scale once per chunk."""
    from thgeval.metrics import fidelity

    calls = []
    real = fidelity.gaussian_level0
    monkeypatch.setattr(fidelity, "gaussian_level0", lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    f = moving_frames(20, h=176, w=176, seed=3)
    write_clip(tmp_path / "gt" / "c.mp4", f, 25, lossless=True)
    noisy = np.clip(f + np.random.default_rng(0).normal(0, 4, f.shape), 0, 255).astype(np.uint8)
    write_clip(tmp_path / "pred" / "c.mp4", noisy, 25, lossless=True)
    r = evaluate(tmp_path / "gt", {"m": tmp_path / "pred"}, metrics="ssim,ms_ssim", out=tmp_path / "o",
                 workers=1, chunk=8)
    assert not r.failed
    assert calls == [8, 8, 4]  # one computation per chunk, not one per metric
