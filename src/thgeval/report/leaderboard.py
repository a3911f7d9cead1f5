"""Leaderboard: per method and metric, mean, std, n and a 95 % bootstrap CI over clips.

The aggregation rule is the variant's: the mean of clip means, or frames pooled over all
clips (a clip's mean weighted by its frame count, which equals the pooled frame mean).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..metrics import POOLED_FRAMES, SET, MetricRef
from ..run.pairing import REAL
from ..run.store import FAILED, OK, SET_CLIP, SKIPPED, Row

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass
class Cell:
    """One method × metric entry."""

    mean: float | None
    std: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    skipped: int
    failed: int
    reasons: list[str]


@dataclass
class Leaderboard:
    methods: list[str]
    metrics: list[MetricRef]
    cells: dict[tuple[str, str], Cell]  # (method, metric@variant)

    def cell(self, method: str, ref: MetricRef) -> Cell:
        return self.cells[(method, ref.key)]


def bootstrap_ci(values: np.ndarray, weights: np.ndarray | None = None, *, level: float = 0.95,
                 resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile bootstrap CI of the (weighted) mean over clips; seeded, so reproducible."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan)
    if n == 1 or not np.all(np.isfinite(values)):
        m = _mean(values, weights)
        return (m, m)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    if weights is None:
        means = values[idx].mean(axis=1)
    else:
        w = weights[idx]
        means = (values[idx] * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return (float(lo), float(hi))


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    with np.errstate(invalid="ignore"):
        if weights is None:
            return float(np.mean(values))
        return float(np.sum(values * weights) / np.sum(weights))


def build(rows: list[Row], metrics: list[MetricRef], methods: list[str]) -> Leaderboard:
    """Aggregate a run's rows; ``real`` (GT clips) leads when it has rows."""
    order = ([REAL] if any(r.method == REAL for r in rows) else []) + [m for m in methods if m != REAL]
    cells = {}
    for method in order:
        for ref in metrics:
            rs = [r for r in rows if r.method == method and r.metric == ref.metric.name and r.variant == ref.variant.name]
            if ref.metric.kind == SET:
                cells[(method, ref.key)] = _set_cell(rs)
                continue
            ok = [r for r in rs if r.status == OK and r.value is not None]
            vals = np.array([r.value for r in ok], dtype=np.float64)
            pooled = ref.variant.aggregation == POOLED_FRAMES
            w = np.array([r.n_frames for r in ok], dtype=np.float64) if pooled else None
            reasons = sorted({r.reason for r in rs if r.status != OK and r.reason})
            if len(vals):
                mean = _mean(vals, w)
                with np.errstate(invalid="ignore"):
                    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
                lo, hi = bootstrap_ci(vals, w)
            else:
                mean = std = lo = hi = None
            cells[(method, ref.key)] = Cell(
                mean, std, len(vals), lo, hi,
                sum(r.status == SKIPPED for r in rs), sum(r.status == FAILED for r in rs), reasons,
            )
    return Leaderboard(order, metrics, cells)


def _set_cell(rs: list[Row]) -> Cell:
    """A set-level metric: the method's one set row; its per-clip rows only count failures."""
    srow = next((r for r in rs if r.clip == SET_CLIP), None)
    clips = [r for r in rs if r.clip != SET_CLIP]
    reasons = sorted({r.reason for r in rs if r.status != OK and r.reason})
    skipped = sum(r.status == SKIPPED for r in clips)
    failed = sum(r.status == FAILED for r in clips)
    if srow is None or srow.status != OK or srow.value is None:
        if srow is not None:
            skipped += srow.status == SKIPPED
            failed += srow.status == FAILED
        return Cell(None, None, 0, None, None, skipped, failed, reasons)
    n = int(srow.extra.get("n_clips", 0))
    return Cell(srow.value, None, n, None, None, skipped, failed, reasons)


def fmt(v: float | None) -> str:
    """Numbers as a paper prints them: 4 decimals below 10, 2 above; ∞ for infinity."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.2f}" if abs(v) >= 10 else f"{v:.4f}"


def column_title(ref: MetricRef) -> str:
    m = ref.metric
    unit = f" [{m.unit}]" if m.unit else ""
    return f"{m.title}{unit} {m.arrow} ({ref.variant.name})"


def cell_text(c: Cell, *, ci: bool = True) -> str:
    if c.mean is None:
        if c.skipped:
            return "skipped"
        return "failed" if c.failed else "–"
    s = fmt(c.mean)
    if c.n > 1 and c.std is not None and math.isfinite(c.mean):
        s += f" ± {fmt(c.std)}"
    if ci and c.n > 1 and c.ci_low is not None and math.isfinite(c.mean):
        s += f" [{fmt(c.ci_low)}, {fmt(c.ci_high)}]"
    s += f" (n={c.n}" + (f", {c.failed} failed" if c.failed else "") + (f", {c.skipped} skipped" if c.skipped else "") + ")"
    return s
