"""Variant disagreement ("metric mayhem"): how much a metric's published variants disagree.

For each metric computed under several variants on the same clips, compare the spread
across variants (for one method) with the spread across methods (for one variant), and
flag pairs of methods whose order flips between variants. When the variant spread is
comparable to the method spread, a paper's ranking can depend on which code computed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from ..run.pairing import REAL
from .leaderboard import Leaderboard


@dataclass
class Disagreement:
    """One metric's variants side by side."""

    metric: str
    variants: list[str]
    means: dict[str, dict[str, float]]  # method -> variant -> mean
    variant_spread: dict[str, float]  # method -> max - min over variants
    method_spread: dict[str, float]  # variant -> max - min over methods
    flips: list[tuple[str, str, str, str]] = field(default_factory=list)  # (a, b, variant_a_wins, variant_b_wins)

    @property
    def ratio(self) -> float | None:
        """Median variant spread over median method spread (None without two methods)."""
        vs = sorted(self.variant_spread.values())
        ms = sorted(v for v in self.method_spread.values())
        if not vs or not ms or ms[len(ms) // 2] == 0:
            return None
        return vs[len(vs) // 2] / ms[len(ms) // 2]


def variant_disagreement(board: Leaderboard) -> list[Disagreement]:
    """Every metric of the board with two or more variants, compared across methods."""
    by_metric: dict[str, list] = {}
    for ref in board.metrics:
        by_metric.setdefault(ref.metric.name, []).append(ref)
    methods = [m for m in board.methods if m != REAL]
    out = []
    for name, refs in by_metric.items():
        if len(refs) < 2:
            continue
        means: dict[str, dict[str, float]] = {}
        for m in methods:
            for ref in refs:
                c = board.cell(m, ref)
                if c.mean is not None and c.mean == c.mean and abs(c.mean) != float("inf"):
                    means.setdefault(m, {})[ref.variant.name] = c.mean
        variants = [r.variant.name for r in refs]
        vspread = {m: max(v.values()) - min(v.values()) for m, v in means.items() if len(v) > 1}
        mspread = {}
        for v in variants:
            vals = [means[m][v] for m in means if v in means[m]]
            if len(vals) > 1:
                mspread[v] = max(vals) - min(vals)
        higher = refs[0].metric.higher_is_better
        flips = []
        for a, b in combinations(sorted(means), 2):
            wins = {}
            for v in variants:
                if v in means[a] and v in means[b] and means[a][v] != means[b][v]:
                    wins[v] = a if (means[a][v] > means[b][v]) == higher else b
            winners = set(wins.values())
            if len(winners) == 2:
                va = next(v for v, w in wins.items() if w == a)
                vb = next(v for v, w in wins.items() if w == b)
                flips.append((a, b, va, vb))
        out.append(Disagreement(name, variants, means, vspread, mspread, flips))
    return out


def disagreement_markdown(items: list[Disagreement]) -> str:
    """The disagreement section of leaderboard.md."""
    if not items:
        return ""
    lines = ["## Variant disagreement", "",
             "Spread = max − min. When the spread across variants (same method) is comparable to the "
             "spread across methods (same variant), rankings depend on which code computed the metric.", "",
             "| metric | variants | spread across variants (median over methods) | "
             "spread across methods (median over variants) | ratio | ranking flips |",
             "|---|---|---|---|---|---|"]
    for d in items:
        vs = sorted(d.variant_spread.values())
        ms = sorted(d.method_spread.values())
        med = lambda x: f"{x[len(x) // 2]:.4g}" if x else "–"  # noqa: E731
        ratio = f"{d.ratio:.2f}" if d.ratio is not None else "–"
        flips = "; ".join(f"{a} vs {b}: {a} wins under {va}, {b} under {vb}" for a, b, va, vb in d.flips) or "none"
        lines.append(f"| {d.metric} | {', '.join(d.variants)} | {med(vs)} | {med(ms)} | {ratio} | {flips} |")
    return "\n".join(lines) + "\n"
