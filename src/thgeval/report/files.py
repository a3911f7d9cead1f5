"""The output folder's files: per_clip.csv, leaderboard.{md,csv,json,tex}, evaluation card."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

from ..run.engine import RunResult
from .disagreement import disagreement_markdown, variant_disagreement
from .leaderboard import Leaderboard, build, cell_text, column_title

PER_CLIP = "per_clip.csv"
CARD = "evaluation_card.json"
PAIRS = "pairs.csv"  # which files were compared: the HTML report's media links start here


def _num(v):
    """JSON has no infinity: non-finite values are written as strings."""
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(result: RunResult) -> tuple[Leaderboard, list[Path]]:
    """Write every output file of a run into its folder; returns the leaderboard."""
    out = Path(result.out_dir)
    board = build(result.rows, result.metrics, result.methods)
    written = [
        _per_clip_csv(out / PER_CLIP, result),
        _leaderboard_csv(out / "leaderboard.csv", board),
        _leaderboard_json(out / "leaderboard.json", board, result),
        _leaderboard_md(out / "leaderboard.md", board, result),
        _leaderboard_tex(out / "leaderboard.tex", board),
        _card(out / CARD, result),
        _pairs_csv(out / PAIRS, result),
    ]
    return board, written


def _leaderboard_tex(path: Path, board: Leaderboard) -> Path:
    from .latex import latex_table

    _atomic_write(path, latex_table(board))
    return path


def _per_clip_csv(path: Path, result: RunResult) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["method", "clip", "metric", "variant", "value", "status", "reason", "notes", "n_frames"])
        for r in result.rows:
            w.writerow([r.method, r.clip, r.metric, r.variant, "" if r.value is None else repr(float(r.value)),
                        r.status, r.reason, r.notes, r.n_frames])
    os.replace(tmp, path)
    return path


def _pairs_csv(path: Path, result: RunResult) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["method", "clip", "pred", "gt"])
    for method, clip, pred, gt in result.pairs:
        w.writerow([method, clip, pred or "", gt or ""])
    _atomic_write(path, buf.getvalue())
    return path


def _leaderboard_csv(path: Path, board: Leaderboard) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["method", "metric", "variant", "direction", "unit", "aggregation", "mean", "std", "n",
                    "ci95_low", "ci95_high", "skipped", "failed"])
        for m in board.methods:
            for ref in board.metrics:
                c = board.cell(m, ref)
                w.writerow([m, ref.metric.name, ref.variant.name, ref.metric.arrow, ref.metric.unit,
                            ref.variant.aggregation, *("" if v is None else repr(float(v)) for v in (c.mean, c.std)),
                            c.n, *("" if v is None else repr(float(v)) for v in (c.ci_low, c.ci_high)),
                            c.skipped, c.failed])
    os.replace(tmp, path)
    return path


def _leaderboard_json(path: Path, board: Leaderboard, result: RunResult) -> Path:
    doc = {
        "run_id": result.run_id,
        "metrics": [
            {"key": r.key, "metric": r.metric.name, "variant": r.variant.name, "title": r.metric.title,
             "higher_is_better": r.metric.higher_is_better, "unit": r.metric.unit,
             "aggregation": r.variant.aggregation, "version": r.version, "reference": r.variant.reference}
            for r in board.metrics
        ],
        "methods": {
            m: {
                ref.key: {k: _num(v) for k, v in vars(board.cell(m, ref)).items()}
                for ref in board.metrics
            }
            for m in board.methods
        },
        "versions": result.versions,
        "variant_disagreement": [
            {"metric": d.metric, "variants": d.variants, "means": d.means, "variant_spread": d.variant_spread,
             "method_spread": d.method_spread, "ratio": d.ratio,
             "flips": [{"a": a, "b": b, "a_wins_under": va, "b_wins_under": vb} for a, b, va, vb in d.flips]}
            for d in variant_disagreement(board)
        ],
    }
    _atomic_write(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path


def markdown_table(board: Leaderboard) -> str:
    head = ["method"] + [column_title(r) for r in board.metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in board.methods:
        lines.append("| " + " | ".join([m] + [cell_text(board.cell(m, r)) for r in board.metrics]) + " |")
    return "\n".join(lines)


def _leaderboard_md(path: Path, board: Leaderboard, result: RunResult) -> Path:
    agg = {r.variant.aggregation for r in board.metrics}
    text = [
        "# Leaderboard",
        "",
        markdown_table(board),
        "",
        "Each cell: mean ± std over clips [95 % bootstrap CI] (n clips). "
        f"Aggregation: {', '.join(sorted(agg))}. ↑ higher is better, ↓ lower is better. "
        "`real` is the ground-truth clips scored by the no-reference metrics.",
        "",
        "## Metrics",
        "",
    ]
    for r in board.metrics:
        text.append(f"- **{r.key}** (v{r.version}): {r.variant.reference}")
    mayhem = disagreement_markdown(variant_disagreement(board))
    if mayhem:
        text += ["", mayhem]
    if result.problems:
        text += ["", "## Problems", ""] + [f"- {p}" for p in result.problems]
    failed = [r for r in result.rows if r.status == "failed"]
    if failed:
        text += ["", "## Failed rows", ""]
        text += [f"- {r.method}/{r.clip} {r.metric}@{r.variant}: {r.reason}" for r in failed[:200]]
        if len(failed) > 200:
            text.append(f"- … and {len(failed) - 200} more in {PER_CLIP}")
    text += ["", f"Computed with thgeval {result.versions['thgeval']}; configuration and versions in {CARD}.", ""]
    _atomic_write(path, "\n".join(text))
    return path


def _card(path: Path, result: RunResult) -> Path:
    clips = {}
    for r in result.rows:
        c = clips.setdefault(r.method, {"ok": 0, "skipped": 0, "failed": 0})
        c[r.status] += 1
    card = {
        "run_id": result.run_id,
        "config": result.config,
        "versions": result.versions,
        "rows_by_method": clips,
        "rows_computed": result.computed,
        "rows_reused": result.reused,
        "problems": result.problems,
    }
    _atomic_write(path, json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
