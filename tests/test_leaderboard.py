"""Aggregation: means, pooled frames, bootstrap CIs, number formatting."""

from __future__ import annotations

import math

import numpy as np

from thgeval.metrics import POOLED_FRAMES, MetricRef, Variant, resolve
from thgeval.report.leaderboard import bootstrap_ci, build, fmt
from thgeval.run.store import Row


def _row(method, clip, value, n=10, status="ok", metric="psnr", variant="skimage"):
    return Row(method, clip, metric, variant, "1", "k", value, status, "" if status == "ok" else "why", "", n)


def test_mean_std_ci_and_counts():
    rows = [_row("a", f"c{i}", v) for i, v in enumerate([20.0, 22.0, 24.0, 26.0])] + [
        _row("a", "bad", None, status="failed")]
    board = build(rows, [resolve("psnr")], ["a"])
    c = board.cell("a", resolve("psnr"))
    assert c.mean == 23.0 and c.n == 4 and c.failed == 1
    assert math.isclose(c.std, np.std([20, 22, 24, 26], ddof=1))
    assert 20 <= c.ci_low < 23 < c.ci_high <= 26
    assert bootstrap_ci(np.array([20.0, 22, 24, 26])) == (c.ci_low, c.ci_high)  # seeded


def test_pooled_frames_weights_clips_by_frame_count():
    ref = resolve("psnr")
    pooled = MetricRef(ref.metric, Variant("pooled", {}, "test", aggregation=POOLED_FRAMES))
    rows = [_row("a", "c0", 10.0, n=1, variant="pooled"), _row("a", "c1", 20.0, n=3, variant="pooled")]
    c = build(rows, [pooled], ["a"]).cell("a", pooled)
    assert c.mean == (10 * 1 + 20 * 3) / 4


def test_infinite_values_are_kept_and_printed():
    board = build([_row("a", "c0", math.inf), _row("a", "c1", 30.0)], [resolve("psnr")], ["a"])
    assert board.cell("a", resolve("psnr")).mean == math.inf
    assert fmt(math.inf) == "∞" and fmt(23.0712) == "23.07" and fmt(0.91234) == "0.9123" and fmt(None) == "–"
