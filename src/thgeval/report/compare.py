"""Paired comparison of two methods on the same clips: does A beat B, and how sure is it?

For one metric, the clips both methods were scored on (status ok, finite values) give paired
differences d_i = A_i − B_i, oriented so that positive means A is better (negated for ↓
metrics). Reported: the mean difference, its 95 % paired-bootstrap confidence interval
(resampling clips), and the two-sided p-value of the paired sign-flip permutation test
(H0: the sign of each clip's difference is arbitrary) — exact over all 2^n sign patterns
up to n = 16 clips, else from ``n_perm`` random patterns (with the +1 correction, so p is
never 0). Both are seeded, so a report reproduces.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

EXACT_UP_TO = 16


@dataclass
class Comparison:
    metric: str
    method_a: str
    method_b: str
    n: int
    mean_diff: float  # > 0: A better
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    a_wins: int  # clips where A is strictly better
    b_wins: int

    def sentence(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        who = self.method_a if self.mean_diff > 0 else self.method_b
        return (f"{self.method_a} vs {self.method_b} on {self.metric} over {self.n} clips: {who} better by "
                f"{abs(self.mean_diff):.4g}{u} (95 % CI of A − B, oriented A-better: [{self.ci_low:.4g}, {self.ci_high:.4g}]), "
                f"p = {self.p_value:.3g} ({self.test}); clips won {self.a_wins}–{self.b_wins}")


def paired_test(a: np.ndarray, b: np.ndarray, *, higher_is_better: bool = True, n_boot: int = 10000,
                n_perm: int = 10000, seed: int = 0) -> tuple[float, float, float, float, str]:
    """Mean oriented difference, bootstrap CI, permutation p-value and the test's name."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if not higher_is_better:
        d = -d
    n = len(d)
    if n < 2:
        raise ConfigError(f"a paired comparison needs at least 2 common clips; have {n}")
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, n, (n_boot, n))].mean(axis=1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    obs = abs(d.mean())
    if n <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = np.abs(signs @ d / n)
        p = float(np.mean(means >= obs - 1e-12 * max(1.0, obs)))
        test = f"paired sign-flip permutation, exact over {len(signs)} patterns"
    else:
        signs = rng.choice((1.0, -1.0), size=(n_perm, n))
        means = np.abs(signs @ d / n)
        p = float((np.sum(means >= obs - 1e-12 * max(1.0, obs)) + 1) / (n_perm + 1))
        test = f"paired sign-flip permutation, {n_perm} random patterns"
    return float(d.mean()), float(lo), float(hi), p, test


def compare_methods(out_dir: str | Path, metric: str, method_a: str, method_b: str, **kw) -> Comparison:
    """Compare two methods of an output folder (its ``per_clip.csv``) on ``metric`` (name or
    name@variant; the default variant when no variant is given)."""
    from ..metrics import resolve

    ref = resolve(metric)
    path = Path(out_dir) / "per_clip.csv"
    if not path.is_file():
        raise ConfigError(f"{path}: not found (give the output folder of `thgeval eval`)")
    vals: dict[str, dict[str, float]] = {method_a: {}, method_b: {}}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["metric"] == ref.metric.name and r["variant"] == ref.variant.name and r["method"] in vals \
                    and r["status"] == "ok" and r["clip"] != "*":
                v = float(r["value"])
                if math.isfinite(v):
                    vals[r["method"]][r["clip"]] = v
    for m in (method_a, method_b):
        if not vals[m]:
            raise ConfigError(f"no ok rows of {m!r} for {ref.key} in {path}")
    clips = sorted(set(vals[method_a]) & set(vals[method_b]))
    a = np.array([vals[method_a][c] for c in clips])
    b = np.array([vals[method_b][c] for c in clips])
    mean, lo, hi, p, test = paired_test(a, b, higher_is_better=ref.metric.higher_is_better, **kw)
    sign = 1 if ref.metric.higher_is_better else -1
    wins_a = int(np.sum(sign * (a - b) > 0))
    wins_b = int(np.sum(sign * (a - b) < 0))
    return Comparison(ref.key, method_a, method_b, len(clips), mean, lo, hi, p, test, wins_a, wins_b)
