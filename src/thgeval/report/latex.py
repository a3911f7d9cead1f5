"""The leaderboard as a LaTeX table (booktabs), ready to paste into a paper.

Methods are rows, metrics columns with ↑/↓ in the header (``$\\uparrow$``), the best method
of each column in bold (the ``real`` row is shown first, in italics, and never counts as
best), each cell ``mean`` with ``\\pm`` the half-width of the 95 % bootstrap CI when there is
more than one clip. Needs ``\\usepackage{booktabs}`` in the paper.
"""

from __future__ import annotations

import math

from .leaderboard import Leaderboard, fmt

REAL = "real"

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _num(v: float) -> str:
    s = fmt(v)
    return {"∞": r"$\infty$", "-∞": r"$-\infty$"}.get(s, s)


def best_methods(board: Leaderboard) -> dict[str, set[str]]:
    """Per metric column, the method(s) with the best mean (ties share it; ``real`` excluded)."""
    out: dict[str, set[str]] = {}
    for ref in board.metrics:
        vals = {m: board.cell(m, ref).mean for m in board.methods if m != REAL}
        vals = {m: v for m, v in vals.items() if v is not None and not math.isnan(v)}
        if not vals:
            out[ref.key] = set()
            continue
        best = max(vals.values()) if ref.metric.higher_is_better else min(vals.values())
        out[ref.key] = {m for m, v in vals.items() if v == best}
    return out


def latex_table(board: Leaderboard, caption: str = "", label: str = "tab:thgeval") -> str:
    """A ``table`` environment with a booktabs ``tabular`` of the leaderboard."""
    best = best_methods(board)
    cols = "l" + "c" * len(board.metrics)
    head = ["Method"]
    for ref in board.metrics:
        arrow = r"$\uparrow$" if ref.metric.higher_is_better else r"$\downarrow$"
        head.append(f"{tex_escape(ref.metric.title)} {arrow}")
    variants = [""] + [r"\scriptsize " + tex_escape(ref.variant.name) for ref in board.metrics]
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join(head) + r" \\", " & ".join(variants) + r" \\", r"\midrule"]
    methods = [m for m in board.methods if m == REAL] + [m for m in board.methods if m != REAL]
    for m in methods:
        row = [r"\textit{Real}" if m == REAL else tex_escape(m)]
        for ref in board.metrics:
            c = board.cell(m, ref)
            if c.mean is None:
                row.append("--")
                continue
            text = _num(c.mean)
            if c.n > 1 and c.ci_low is not None and math.isfinite(c.mean) and c.ci_high is not None:
                text += rf"\,{{\scriptsize$\pm${fmt((c.ci_high - c.ci_low) / 2)}}}"
            if m in best[ref.key]:
                text = rf"\textbf{{{text}}}"
            row.append(text)
        lines.append(" & ".join(row) + r" \\")
        if m == REAL and len(methods) > 1:
            lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{tabular}"]
    cap = caption or ("Mean over clips; $\\pm$: half-width of the 95\\,\\% bootstrap confidence interval. "
                      "Best method in bold. Computed with thgeval.")
    lines += [rf"\caption{{{cap}}}", rf"\label{{{label}}}", r"\end{table}", ""]
    return "\n".join(lines)
