"""``thgeval report OUT``: one self-contained HTML page of an evaluation or a benchmark.

Everything the page needs is inside it (CSS, the sorting script, the plots as inline SVG), so
it opens offline and can be mailed or archived; only the optional media (lip-sync figures
and side-by-side videos, under ``OUT/media``) are separate files, linked relatively.

Reads what ``thgeval eval`` / ``thgeval bench`` wrote: ``leaderboard.json``,
``per_clip.csv``, ``evaluation_card.json``, ``pairs.csv`` (a benchmark: ``bench.json`` and
one such folder per dataset). Sections: the sortable leaderboard (best non-real value in
bold), one plot per metric of each method's mean with its 95 % CI, the variant-disagreement
table when several variants ran, a sortable and filterable per-clip table, failures with
their reasons, and the full configuration and versions.
"""

from __future__ import annotations

import csv
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import ConfigError
from .files import CARD, PAIRS, PER_CLIP
from .leaderboard import fmt

REPORT = "report.html"
MEDIA = "media"  # OUT/media/<method>/<clip>_lipsync.{png,mp4}
REAL = "real"


@dataclass
class _Dataset:
    name: str
    out: Path
    board: dict[str, Any]
    rows: list[dict[str, str]]
    card: dict[str, Any]
    pairs: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _read_dataset(name: str, out: Path, problems: list[str] | None = None) -> _Dataset:
    lb = out / "leaderboard.json"
    if not lb.is_file():
        raise ConfigError(f"{out}: no leaderboard.json (give the output folder of `thgeval eval` or `thgeval bench`)")
    board = json.loads(lb.read_text(encoding="utf-8"))
    rows = []
    if (out / PER_CLIP).is_file():
        with open(out / PER_CLIP, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    card = json.loads((out / CARD).read_text(encoding="utf-8")) if (out / CARD).is_file() else {}
    pairs = []
    if (out / PAIRS).is_file():
        with open(out / PAIRS, newline="", encoding="utf-8") as f:
            pairs = list(csv.DictReader(f))
    return _Dataset(name, out, board, rows, card, pairs, list(problems if problems is not None else card.get("problems", [])))


def _datasets(out: Path) -> tuple[str, list[_Dataset]]:
    if (out / "bench.json").is_file():
        bench = json.loads((out / "bench.json").read_text(encoding="utf-8"))
        sets = []
        for name, entry in bench.get("datasets", {}).items():
            d = Path(entry["out"])
            d = d if d.is_absolute() else out / name
            if not (d / "leaderboard.json").is_file():
                d = out / name
            if (d / "leaderboard.json").is_file():
                sets.append(_read_dataset(name, d, entry.get("problems")))
        if not sets:
            raise ConfigError(f"{out}: the benchmark has no evaluated dataset yet")
        return f"Benchmark {Path(bench.get('config') or out).name}", sets
    return f"Evaluation {out.resolve().name}", [_read_dataset(out.name, out)]


def make_media(out: str | Path, *, limit: int | None = None, video: bool = True) -> list[str]:
    """Lip-sync figure and side-by-side video of each compared clip (the first ``limit`` clips of
    each method) into ``OUT/media/<method>/``; returns one line per clip that could not be made."""
    from .lipsync import lipsync

    out = Path(out)
    if not (out / PAIRS).is_file():
        raise ConfigError(f"{out}: no {PAIRS} (re-run `thgeval eval` into this folder to record the pairs)")
    errors, count = [], {}
    with open(out / PAIRS, newline="", encoding="utf-8") as f:
        for p in csv.DictReader(f):
            if not p["pred"] or (limit is not None and count.get(p["method"], 0) >= limit):
                continue
            count[p["method"]] = count.get(p["method"], 0) + 1
            dest = out / MEDIA / p["method"] / Path(p["clip"]).parent
            try:
                lipsync(p["pred"], dest, gt=p["gt"] or None, video=video)
            except Exception as e:  # noqa: BLE001 — one clip's figure failing must not stop the others
                errors.append(f"{p['method']}/{p['clip']}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return errors


def write_report(out: str | Path, path: str | Path | None = None) -> Path:
    """Write the HTML report of an output folder (default ``OUT/report.html``)."""
    out = Path(out)
    if not out.is_dir():
        raise ConfigError(f"{out}: not a folder")
    title, sets = _datasets(out)
    path = Path(path) if path else out / REPORT
    body = [f"<h1>{_e(title)}</h1>",
            "<nav>" + " · ".join(f'<a href="#ds-{i}">{_e(d.name)}</a>' for i, d in enumerate(sets)) + "</nav>"
            if len(sets) > 1 else ""]
    for i, d in enumerate(sets):
        body.append(_dataset_html(d, i, path.parent, len(sets) > 1))
    page = _PAGE.replace("{title}", _e(title)).replace("{css}", _CSS).replace("{js}", _JS).replace(
        "{body}", "\n".join(body))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


# --- sections -----------------------------------------------------------------------------
def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _num(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return None
    return float(v)


def _sort_key(v: float | None) -> str:
    if v is None or math.isnan(v):
        return ""
    return repr(v) if math.isfinite(v) else ("1e999" if v > 0 else "-1e999")


def _best(board: dict) -> dict[str, str]:
    best = {}
    for m in board["metrics"]:
        vals = [(c[m["key"]]["mean"], name) for name, c in board["methods"].items()
                if name != REAL and _num(c.get(m["key"], {}).get("mean")) is not None
                and math.isfinite(_num(c[m["key"]]["mean"]))]
        if len(vals) > 1:
            best[m["key"]] = (max if m["higher_is_better"] else min)(vals)[1]
    return best


def _dataset_html(d: _Dataset, i: int, report_dir: Path, heading: bool) -> str:
    parts = [f'<section id="ds-{i}">']
    if heading:
        parts.append(f"<h2>{_e(d.name)}</h2>")
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    for r in d.rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    parts.append(f'<p class="summary">{len(d.board["methods"])} rows of the leaderboard · '
                 f'{len({r["clip"] for r in d.rows})} clips · {counts["ok"]} values, {counts["skipped"]} skipped, '
                 f'{counts["failed"]} failed</p>')
    parts += [_leaderboard(d, i), _plots(d), _disagreement(d), _per_clip(d, i, report_dir), _failures(d),
              _config(d)]
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _leaderboard(d: _Dataset, i: int) -> str:
    board, best = d.board, _best(d.board)
    head = ['<th data-type="text">method</th>'] + [
        f'<th title="{_e(m["reference"])}">{_e(m["title"])}{" [" + _e(m["unit"]) + "]" if m["unit"] else ""} '
        f'{"↑" if m["higher_is_better"] else "↓"}<br><small>{_e(m["variant"])}</small></th>'
        for m in board["metrics"]]
    rows = []
    for name, cells in board["methods"].items():
        tds = [f'<td data-v="{_e(name)}">{_e(name)}</td>']
        for m in board["metrics"]:
            c = cells.get(m["key"], {})
            mean = _num(c.get("mean"))
            text = _cell(c)
            cls = ' class="best"' if best.get(m["key"]) == name else ""
            tds.append(f'<td data-v="{_sort_key(mean)}"{cls}>{text}</td>')
        rows.append(f'<tr class="{"real" if name == REAL else ""}">' + "".join(tds) + "</tr>")
    return (f'<h3>Leaderboard</h3><table class="sortable board" id="board-{i}"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            '<p class="note">Mean ± std over clips [95 % bootstrap CI] (n clips); click a header to sort. '
            'Bold: best method (the <i>real</i> row, the GT clips themselves, is not ranked). '
            'Hover a header for the reference the variant reproduces.</p>')


def _cell(c: dict) -> str:
    mean = _num(c.get("mean"))
    if mean is None:
        reasons = "; ".join(c.get("reasons") or [])
        label = "skipped" if c.get("skipped") else ("failed" if c.get("failed") else "–")
        return f'<span class="muted" title="{_e(reasons)}">{label}</span>'
    s = _e(fmt(mean))
    std, n = _num(c.get("std")), int(c.get("n") or 0)
    if n > 1 and std is not None and math.isfinite(mean):
        s += f' <small>± {_e(fmt(std))}</small>'
    lo, hi = _num(c.get("ci_low")), _num(c.get("ci_high"))
    if n > 1 and lo is not None and hi is not None and math.isfinite(mean):
        s += f' <small>[{_e(fmt(lo))}, {_e(fmt(hi))}]</small>'
    extra = f", {c['failed']} failed" if c.get("failed") else ""
    return s + f' <small class="muted">n={n}{extra}</small>'


def _plots(d: _Dataset) -> str:
    figs = []
    for m in d.board["metrics"]:
        pts = []
        for name, cells in d.board["methods"].items():
            c = cells.get(m["key"], {})
            mean = _num(c.get("mean"))
            if mean is None or not math.isfinite(mean):
                continue
            lo, hi = _num(c.get("ci_low")), _num(c.get("ci_high"))
            lo = mean if lo is None or not math.isfinite(lo) else lo
            hi = mean if hi is None or not math.isfinite(hi) else hi
            pts.append((name, mean, lo, hi))
        if pts:
            figs.append(_svg_plot(m, pts))
    if not figs:
        return ""
    return '<h3>Per metric</h3><div class="plots">' + "".join(figs) + "</div>"


def _svg_plot(m: dict, pts: list[tuple[str, float, float, float]]) -> str:
    """Each method's mean as a dot with its 95 % CI as a bar, on a shared axis."""
    w, row, left, right = 360, 22, 110, 16
    h = 30 + row * len(pts)
    lo = min(p[2] for p in pts)
    hi = max(p[3] for p in pts)
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1) * 0.05, lo - (abs(lo) or 1) * 0.05
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (w - left - right)

    out = [f'<figure><figcaption>{_e(m["title"])} {"↑" if m["higher_is_better"] else "↓"} '
           f'<small>{_e(m["key"])}</small></figcaption>'
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">']
    for k, (name, mean, a, b) in enumerate(pts):
        y = 14 + k * row
        cls = "real" if name == REAL else "dot"
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{_e(name[:16])}</text>'
                   f'<line x1="{x(a):.1f}" x2="{x(b):.1f}" y1="{y}" y2="{y}" class="ci"/>'
                   f'<circle cx="{x(mean):.1f}" cy="{y}" r="4" class="{cls}"><title>{_e(name)}: {_e(fmt(mean))} '
                   f'[{_e(fmt(a))}, {_e(fmt(b))}]</title></circle>')
    y = h - 10
    out.append(f'<line x1="{left}" x2="{w - right}" y1="{y - 8}" y2="{y - 8}" class="axis"/>'
               f'<text x="{left}" y="{y + 4}">{_e(fmt(lo))}</text>'
               f'<text x="{w - right}" y="{y + 4}" text-anchor="end">{_e(fmt(hi))}</text></svg></figure>')
    return "".join(out)


def _disagreement(d: _Dataset) -> str:
    items = d.board.get("variant_disagreement") or []
    if not items:
        return ""
    rows = []
    for it in items:
        flips = "; ".join(f"{f['a']} vs {f['b']}: {f['a']} wins under {f['a_wins_under']}, "
                          f"{f['b']} under {f['b_wins_under']}" for f in it.get("flips", []))
        vs, ms, ratio = _median(it.get("variant_spread")), _median(it.get("method_spread")), _num(it.get("ratio"))
        rows.append(f"<tr><td>{_e(it['metric'])}</td><td>{_e(', '.join(it['variants']))}</td>"
                    + "".join(f'<td data-v="{_sort_key(v)}">{_e(fmt(v))}</td>' for v in (vs, ms, ratio))
                    + f"<td class=\"{'flip' if flips else ''}\">{_e(flips or 'none')}</td></tr>")
    return ('<h3>Variant disagreement</h3><table class="sortable"><thead><tr><th data-type="text">metric</th>'
            '<th data-type="text">variants</th><th>spread across variants (median over methods)</th>'
            '<th>spread across methods (median over variants)</th><th>ratio</th><th data-type="text">rankings that flip</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _median(spreads) -> float | None:
    vals = sorted(float(v) for v in (spreads or {}).values() if v is not None)
    return vals[len(vals) // 2] if vals else None


def _media_links(d: _Dataset, report_dir: Path) -> dict[tuple[str, str], str]:
    links = {}
    root = d.out / MEDIA
    if not root.is_dir():
        return links
    for p in d.pairs or []:
        stem = root / p["method"] / Path(p["clip"]).parent / f"{Path(p['pred']).stem if p['pred'] else ''}_lipsync"
        found = []
        for ext, label in ((".mp4", "video"), (".png", "figure")):
            f = stem.with_suffix(ext)
            if f.is_file():
                rel = Path(_relpath(f, report_dir))
                found.append(f'<a href="{_e(quote(rel.as_posix()))}">{label}</a>')
        if found:
            links[(p["method"], p["clip"])] = " ".join(found)
    return links


def _relpath(f: Path, base: Path) -> str:
    import os

    return os.path.relpath(f.resolve(), base.resolve())


def _per_clip(d: _Dataset, i: int, report_dir: Path) -> str:
    if not d.rows:
        return ""
    keys = sorted({f"{r['metric']}@{r['variant']}" for r in d.rows if r["clip"] != "*"})
    table: dict[tuple[str, str], dict[str, dict]] = {}
    for r in d.rows:
        if r["clip"] == "*":  # set-level rows (FID, FVD) live in the leaderboard
            continue
        table.setdefault((r["method"], r["clip"]), {})[f"{r['metric']}@{r['variant']}"] = r
    links = _media_links(d, report_dir)
    head = ('<th data-type="text">method</th><th data-type="text">clip</th>'
            + "".join(f"<th>{_e(k)}</th>" for k in keys) + '<th data-type="text">media</th>')
    rows = []
    for (method, clip), cells in sorted(table.items(), key=lambda kv: (kv[0][0] == REAL, kv[0])):
        tds = [f'<td data-v="{_e(method)}">{_e(method)}</td><td data-v="{_e(clip)}">{_e(clip)}</td>']
        for k in keys:
            r = cells.get(k)
            if r is None:
                tds.append('<td data-v=""></td>')
            elif r["status"] == "ok":
                v = _num(r["value"])
                tds.append(f'<td data-v="{_sort_key(v)}">{_e(fmt(v))}</td>')
            else:
                tds.append(f'<td data-v="" class="{r["status"]}" title="{_e(r["reason"])}">{r["status"]}</td>')
        tds.append(f"<td>{links.get((method, clip), '')}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (f'<h3>Per clip</h3><input class="filter" data-table="clips-{i}" placeholder="filter rows (method, clip…)">'
            f'<table class="sortable clips" id="clips-{i}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
            "</tbody></table>")


def _failures(d: _Dataset) -> str:
    bad = [r for r in d.rows if r["status"] == "failed"]
    probs = d.problems
    if not bad and not probs:
        return "<h3>Failures</h3><p>None.</p>"
    out = ["<h3>Failures</h3>"]
    if bad:
        out.append("<table><thead><tr><th>method</th><th>clip</th><th>metric</th><th>reason</th></tr></thead><tbody>"
                   + "".join(f"<tr><td>{_e(r['method'])}</td><td>{_e(r['clip'])}</td>"
                             f"<td>{_e(r['metric'])}@{_e(r['variant'])}</td><td>{_e(r['reason'])}</td></tr>"
                             for r in bad[:1000]) + "</tbody></table>")
        if len(bad) > 1000:
            out.append(f"<p>… and {len(bad) - 1000} more in {PER_CLIP}.</p>")
    if probs:
        out.append("<h4>Problems</h4><ul>" + "".join(f"<li>{_e(p)}</li>" for p in probs) + "</ul>")
    return "".join(out)


def _config(d: _Dataset) -> str:
    card = d.card or {}
    versions = card.get("versions") or d.board.get("versions") or {}
    vt = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in versions.items())
    metrics = "".join(f"<li><b>{_e(m['key'])}</b> v{_e(m['version'])}, {_e(m['aggregation'])}: {_e(m['reference'])}</li>"
                      for m in d.board["metrics"])
    return ("<details><summary>Configuration and versions</summary>"
            f"<h4>Metrics</h4><ul>{metrics}</ul>"
            f"<h4>Versions</h4><table>{vt}</table>"
            f"<h4>Configuration</h4><pre>{_e(json.dumps(card.get('config', {}), indent=2, ensure_ascii=False))}</pre>"
            "</details>")


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:22px}h2{font-size:19px;border-bottom:1px solid #ccc;margin-top:32px}h3{font-size:16px;margin-top:22px}
table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:right;
vertical-align:top}th{background:#f4f4f4;cursor:default}table.sortable th{cursor:pointer;user-select:none}
td:first-child,th:first-child,td:nth-child(2){text-align:left}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.best{font-weight:700}tr.real td{color:#555;font-style:italic}.muted{color:#888}td.failed{color:#b00}
td.skipped{color:#888}small{color:#666}.note{color:#555;font-size:12px}.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #e3e3e3;padding:6px}figcaption{font-weight:600}svg text{font-size:11px;fill:#333}
svg .ci{stroke:#4a7bd0;stroke-width:3}svg .dot{fill:#1f4e9c}svg .real{fill:#999}svg .axis{stroke:#999}
.flip{color:#b00}input.filter{margin:4px 0;padding:3px 6px;width:280px}pre{background:#f7f7f7;padding:8px;overflow:auto}
"""

# Sorting by the data-v attribute (numbers when both parse, else text); empty cells last.
_JS = """
(function(){
  function val(td,type){var v=td.getAttribute('data-v');if(v===null)v=td.textContent;
    if(type==='text')return v.toLowerCase();if(v==='')return null;var f=parseFloat(v);return isNaN(f)?v:f;}
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var asc=!th.classList.contains('asc');t.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
        th.classList.add(asc?'asc':'desc');var type=th.getAttribute('data-type')||'num';
        var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){var x=val(a.cells[col],type),y=val(b.cells[col],type);
          if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
          var r=(x<y)?-1:(x>y)?1:0;return asc?r:-r;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  document.querySelectorAll('input.filter').forEach(function(inp){
    inp.addEventListener('input',function(){var q=inp.value.toLowerCase();
      var t=document.getElementById(inp.getAttribute('data-table'));
      Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
        r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});});
  });
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="thgeval"><title>{title}</title><style>{css}</style></head>
<body>
{body}
<footer class="note">Written by thgeval report; self-contained (no network access needed).</footer>
<script>{js}</script>
</body></html>
"""
