"""The ``thgeval`` command: parse, call the library, print. No logic lives here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .cli_align import add_align_parser, cmd_align
from .cli_bench import add_bench_parser, cmd_bench
from .errors import ThgevalError

EXIT_OK, EXIT_CLIP_FAILED, EXIT_USAGE = 0, 1, 2

EXIT_HELP = """exit status:
  0  every row computed or skipped with a reason
  1  at least one clip failed (unreadable, mismatched under an 'error' policy, missing
     prediction); the run still finished and every other row is stored
  2  bad command line or configuration; nothing was evaluated
"""


def _console():
    from rich.console import Console

    # Piped output (logs, CI) gets a wide table instead of rich's 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _err(msg: str) -> None:
    print(f"thgeval: error: {msg}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    from .io.conform import FPS_POLICIES, LENGTH_POLICIES, SIZE_POLICIES

    p = argparse.ArgumentParser(prog="thgeval", description="Evaluate talking-head generation.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_HELP)
    p.add_argument("--version", action="version", version=f"thgeval {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    e = sub.add_parser("eval", help="pair clips by name, compute metrics, write the leaderboard",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_HELP)
    e.add_argument("--gt", metavar="DIR", help="folder of ground-truth clips")
    e.add_argument("--pred", metavar="NAME=DIR", action="append", default=[],
                   help="a method's generated clips (repeatable); paired with GT by file name")
    e.add_argument("--manifest", metavar="CSV", help="explicit pairs: columns method,pred,gt[,clip]")
    e.add_argument("--metrics", metavar="LIST",
                   help="comma list of name or name@variant (default: every metric that can run here)")
    e.add_argument("--out", metavar="DIR", default="thgeval-out", help="output folder (default: %(default)s)")
    e.add_argument("--workers", type=int, metavar="N", help="processes (default: every core)")
    e.add_argument("--backend", choices=("inline", "local", "ray"), default="local",
                   help="inline: this process; local: a process pool over every core; ray: a task per clip "
                        "on a Ray cluster (default: %(default)s)")
    e.add_argument("--address", metavar="HOST:PORT", help="the Ray cluster of --backend ray (default: start a local one)")
    e.add_argument("--on-fps-mismatch", choices=FPS_POLICIES, default="resample",
                   help="pred fps differs from GT: resample pred by timestamps (default) or fail the clip")
    e.add_argument("--on-size-mismatch", choices=SIZE_POLICIES, default="pred-to-gt",
                   help="frame sizes differ: resize pred to GT (default), GT to pred, or fail the clip")
    e.add_argument("--on-length-mismatch", choices=LENGTH_POLICIES, default="common",
                   help="lengths differ: compare the common frames (default) or fail the clip")
    e.add_argument("--ref", metavar="DIR",
                   help="source images named like the clips, for identity metrics (default: first GT frame)")
    e.add_argument("--transcripts", metavar="FILE", help="what is said in each clip: 'id text' lines")
    e.add_argument("--hyp", metavar="NAME=FILE", action="append", default=[],
                   help="a recogniser's transcripts of method NAME's clips ('real' for GT), 'id text' lines")
    e.add_argument("--device", default="cpu", help="cpu or cuda, for network metrics (default: %(default)s)")
    e.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="items per network call (default: chosen from the free memory of the device)")
    e.add_argument("--cache-dir", metavar="DIR",
                   help="face tracks and set-metric features (default: $THGEVAL_HOME/cache)")
    e.add_argument("--protocol", metavar="NAME",
                   help="a paper's protocol: its pairing layout, metric variants and self-checks (thgeval protocols)")
    e.add_argument("--filelist", metavar="FILE", help="Wav2Lip test filelist ('AUDIO_SRC VIDEO' lines), with --protocol wav2lip-*")
    e.add_argument("--data-root", metavar="DIR", help="the dataset folder a --filelist's paths are under")
    e.add_argument("--all-variants", action="store_true",
                   help="compute every variant of each metric and report where variants disagree")
    e.add_argument("--retry-failed", action="store_true", help="recompute rows that failed before")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    m = sub.add_parser("metrics", help="every metric, its variants, what it needs, whether it can run here")
    m.add_argument("name", nargs="?", help="explain one metric (name, alias or name@variant) with its parameters")
    m.add_argument("--json", action="store_true", help="machine-readable output")

    ds = sub.add_parser("datasets", help="the dataset adapters; with NAME ROOT, read a split and report its problems")
    ds.add_argument("name", nargs="?", metavar="NAME", help="adapter (omit to list them)")
    ds.add_argument("root", nargs="?", metavar="ROOT", help="the dataset's folder on this machine")
    ds.add_argument("--split", help="split to read (default: the adapter's)")
    ds.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                    help="adapter option (repeatable), e.g. -o list=test.txt")
    ds.add_argument("--probe", action="store_true", help="probe every file (fps, size, frames, audio)")
    ds.add_argument("--workers", type=int, metavar="N", help="probing threads")
    ds.add_argument("--json", action="store_true", help="machine-readable output")

    pr = sub.add_parser("protocols", help="papers' evaluation protocols: layout, metric variants, sources")
    pr.add_argument("name", nargs="?", help="show one protocol in full")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    ls = sub.add_parser("lipsync", help="lip-sync figure (PNG, SVG) and side-by-side MP4 of a clip")
    ls.add_argument("input", metavar="IN", help="the (generated) clip")
    ls.add_argument("--gt", metavar="GT", help="its ground-truth clip (plotted beside it)")
    ls.add_argument("-o", "--out", metavar="OUT", default="thgeval-lipsync", help="output folder (default: %(default)s)")
    ls.add_argument("--no-video", action="store_true", help="only the figure")
    ls.add_argument("--device", default="cpu", help="SyncNet device when its weights are present (cpu, cuda)")

    w = sub.add_parser("weights", help="pretrained weights files: list, fetch, verify, path")
    wsub = w.add_subparsers(dest="weights_command", required=True, metavar="ACTION")
    wsub.add_parser("list", help="every known weights file, whether it is present, its licence")
    wf = wsub.add_parser("fetch", help="download a weights file (progress, checksum-verified)")
    wf.add_argument("name", metavar="NAME")
    wf.add_argument("--url", help="download from this URL instead of the manifest's")
    wf.add_argument("--force", action="store_true", help="download again even if a good file is present")
    wv = wsub.add_parser("verify", help="check present files against their checksums")
    wv.add_argument("name", metavar="NAME", nargs="?", help="one entry (default: every present file)")
    wp = wsub.add_parser("path", help="print the path of a present weights file")
    wp.add_argument("name", metavar="NAME")

    add_align_parser(sub)
    add_bench_parser(sub)

    c = sub.add_parser("compare", help="paired test of two methods on the same clips (p-value, CI)")
    c.add_argument("out", metavar="OUT", help="an output folder of `thgeval eval`")
    c.add_argument("method_a", metavar="A")
    c.add_argument("method_b", metavar="B")
    c.add_argument("--metric", required=True, metavar="NAME[@VARIANT]")

    rp = sub.add_parser("report", help="one self-contained HTML page of an eval or bench output folder")
    rp.add_argument("out", metavar="OUT", help="an output folder of `thgeval eval` or `thgeval bench`")
    rp.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: OUT/report.html)")
    rp.add_argument("--media", type=int, default=0, metavar="N",
                    help="first make the lip-sync figure and side-by-side video of N clips per method "
                         "(OUT/media; -1: every clip); the per-clip table links them (default: %(default)s)")
    rp.add_argument("--no-video", action="store_true", help="with --media: figures only")

    d = sub.add_parser("demo", help="build a small benchmark from a bundled real portrait and evaluate it")
    d.add_argument("--out", metavar="DIR", default="thgeval-demo", help="folder for the clips and results")
    d.add_argument("--clips", type=int, default=3, help="clips per method (default: %(default)s)")
    d.add_argument("--frames", type=int, default=50, help="frames per clip (default: %(default)s)")
    d.add_argument("--workers", type=int, metavar="N")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"eval": cmd_eval, "metrics": cmd_metrics, "demo": cmd_demo, "protocols": cmd_protocols,
                "weights": cmd_weights, "lipsync": cmd_lipsync, "datasets": cmd_datasets,
                "align": cmd_align, "bench": cmd_bench, "compare": cmd_compare, "report": cmd_report}[args.command](args)
    except ThgevalError as e:
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; finished clips are stored, run the same command again to resume")
        return 130


def _run_with_progress(console, quiet: bool, **kwargs):
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn

    from .run import evaluate

    if quiet:
        return evaluate(**kwargs)
    with Progress(TextColumn("[bold]evaluating"), BarColumn(), TextColumn("{task.description}"),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(p):  # clips done / failed, rate, ETA, the clip just finished
            bar.update(task, completed=p.done, total=p.total, description=escape(f"{p.line()} · {p.clip}"))

        return evaluate(progress=progress, **kwargs)


def print_result(console, result, board) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .report.leaderboard import fmt

    def text_of(c) -> str:
        if c.mean is None:
            return "skipped" if c.skipped else ("failed" if c.failed else "–")
        text = fmt(c.mean) + (f" ± {fmt(c.std)}" if c.n > 1 and c.std is not None and c.std == c.std else "")
        return text + (f" ({c.n} ok)" if c.failed or c.skipped else "")

    # a metric no method could compute is one line, not an empty column
    shown, skipped = [], []
    for ref in board.metrics:
        cells = [board.cell(m, ref) for m in board.methods]
        if all(c.mean is None and c.skipped and not c.failed for c in cells):
            skipped.append((ref, next((r for c in cells for r in c.reasons), "")))
        else:
            shown.append(ref)
    n_clips = {m: max([0] + [board.cell(m, r).n + board.cell(m, r).failed + board.cell(m, r).skipped
                             for r in board.metrics]) for m in board.methods}
    titles = [f"{r.metric.title} {r.metric.arrow}" + (f" {r.metric.unit}" if r.metric.unit else "") for r in shown]
    # wide boards are printed with metrics as rows, so no column is cut to "…"
    transposed = len(shown) > max(3, (console.width - 12) // 16)
    t = Table(title="Leaderboard: mean ± std over clips")
    if transposed:
        t.add_column("metric", style="bold")
        for m in board.methods:
            t.add_column(escape(f"{m} ({n_clips[m]})"), justify="right")
        for ref, title in zip(shown, titles):
            t.add_row(escape(title), *[escape(text_of(board.cell(m, ref))) for m in board.methods])
    else:
        t.add_column("method", style="bold")
        for title in titles:
            t.add_column(escape(title), justify="right")
        t.add_column("clips", justify="right")
        for m in board.methods:
            t.add_row(escape(m), *[escape(text_of(board.cell(m, ref))) for ref in shown], str(n_clips[m]))
    console.print(t)
    for ref, reason in skipped:
        console.print(f"[dim]skipped everywhere: {escape(ref.key)} ({escape(reason)})[/dim]", highlight=False)
    console.print("variants: " + escape(", ".join(r.key for r in board.metrics)) + "; 95 % CIs in leaderboard.md")
    from .report.disagreement import variant_disagreement

    for d in variant_disagreement(board):
        ratio = f"{d.ratio:.2f}" if d.ratio is not None else "–"
        console.print(f"[bold]{escape(d.metric)}[/]: variants disagree by {ratio}× the spread between methods"
                      + (f"; ranking flips: {len(d.flips)}" if d.flips else "; no ranking flips"))
        for a, b, va, vb in d.flips:
            console.print(f"  [yellow]flip:[/] {escape(a)} beats {escape(b)} under {escape(va)}, loses under {escape(vb)}")
    for p in result.problems:
        console.print(f"[yellow]warning:[/] {escape(p)}")
    seen = set()
    for r in result.failed:
        key = (r.method, r.clip, r.reason)
        if key not in seen:
            seen.add(key)
            console.print(f"[red]failed:[/] {escape(f'{r.method}/{r.clip}: {r.reason}')}")
    console.print(
        f"{result.computed} rows computed, {result.reused} reused from the store, "
        f"{result.frames_decoded} frames decoded in {result.seconds:.1f} s → {escape(str(result.out_dir))}"
    )


def cmd_compare(args) -> int:
    from .metrics import resolve
    from .report.compare import compare_methods

    c = compare_methods(args.out, args.metric, args.method_a, args.method_b)
    print(c.sentence(resolve(args.metric).metric.unit))
    return EXIT_OK


def cmd_report(args) -> int:
    import json
    from pathlib import Path

    from .report.html import make_media, write_report

    out = Path(args.out)
    if args.media:
        folders = [out]
        if (out / "bench.json").is_file():
            folders = [out / n for n in json.loads((out / "bench.json").read_text(encoding="utf-8"))["datasets"]]
        for f in folders:
            for line in make_media(f, limit=None if args.media < 0 else args.media, video=not args.no_video):
                print(f"thgeval: warning: no lip-sync media for {line}", file=sys.stderr)
    path = write_report(out, args.output)
    print(f"report: {path}")
    return EXIT_OK


def cmd_eval(args) -> int:
    from .report import write_outputs
    from .run import ConformPolicy

    if not args.pred and not args.manifest:
        _err("give at least one --pred NAME=DIR (or --manifest CSV)")
        return EXIT_USAGE
    console = _console()
    policy = ConformPolicy(args.on_fps_mismatch, args.on_size_mismatch, args.on_length_mismatch)
    result = _run_with_progress(
        console, args.quiet, gt=args.gt, preds=args.pred or None, manifest=args.manifest,
        metrics=args.metrics, out=args.out, workers=args.workers, backend=args.backend, address=args.address,
        policy=policy, retry_failed=args.retry_failed,
        references=args.ref, transcripts=args.transcripts, hypotheses=_hyp_args(args.hyp),
        device=args.device, batch_size=args.batch_size, cache_dir=args.cache_dir, every_variant=args.all_variants,
        protocol=args.protocol, filelist=args.filelist, data_root=args.data_root,
    )
    board, _ = write_outputs(result)
    print_result(console, result, board)
    from .report.html import write_report

    console.print(f"report: {write_report(result.out_dir)}", highlight=False)
    return EXIT_CLIP_FAILED if result.failed else EXIT_OK


def _hyp_args(specs: list[str]) -> dict[str, str]:
    from .errors import ConfigError

    out = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f"--hyp {spec!r}: give NAME=FILE")
        out[name.strip()] = path.strip()
    return out


def _metric_item(m) -> dict:
    why = m.why_not()
    return {
        "name": m.name, "title": m.title, "direction": m.arrow, "unit": m.unit, "range": m.value_range,
        "kind": m.kind, "family": m.family, "description": m.description,
        "needs": sorted(m.needs) or ["nothing (no reference)"], "default": m.default_variant, "version": m.version,
        "aliases": list(m.aliases), "can_run": not why, "why_not": why,
        "variants": {
            v.name: {"reference": v.reference, "params": dict(v.params), "aggregation": v.aggregation,
                     "weights": list(dict.fromkeys(m.weights + v.weights)), "notes": v.notes,
                     "can_run": not m.why_not(v.name), "why_not": m.why_not(v.name)}
            for v in m.variants.values()
        },
    }


def _explain_metric(spec: str, as_json: bool) -> int:
    import json

    from rich.markup import escape

    from .metrics import get_metric

    name, _, variant = spec.partition("@")
    m = get_metric(name)
    if variant:
        from .metrics import resolve

        resolve(spec)  # a misspelt variant gets its did-you-mean here
    item = _metric_item(m)
    if variant:
        item["variants"] = {k: v for k, v in item["variants"].items() if k == variant}
    if as_json:
        print(json.dumps(item, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    c = _console()
    unit = f" [{m.unit}]" if m.unit else ""
    c.print(f"[bold]{escape(m.name)}[/] — {escape(m.title)}{escape(unit)} {m.arrow}  ({m.kind}-level, version {m.version})")
    if m.description:
        c.print(escape(m.description))
    c.print(f"needs: {escape(', '.join(item['needs']))}; range: {escape(m.value_range or '–')}"
            + (f"; aliases: {escape(', '.join(m.aliases))}" if m.aliases else ""))
    for vname, v in item["variants"].items():
        default = " (default)" if vname == m.default_variant else ""
        c.print(f"\n[bold]{escape(m.name)}@{escape(vname)}[/]{default}")
        c.print(f"  reference: {escape(v['reference'])}")
        c.print(f"  aggregation: {escape(v['aggregation'])}")
        for k, val in v["params"].items():
            c.print(f"  {escape(k)} = {escape(repr(val))}")
        if v["weights"]:
            c.print(f"  weights: {escape(', '.join(v['weights']))}")
        if v["notes"]:
            c.print(f"  notes: {escape(v['notes'])}")
        c.print("  runs here: " + ("yes" if v["can_run"] else f"no: {escape(v['why_not'])}"))
    return EXIT_OK


def cmd_metrics(args) -> int:
    import json

    from .metrics import all_metrics

    if args.name:
        return _explain_metric(args.name, args.json)
    items = []
    for m in all_metrics():
        items.append(_metric_item(m))
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.table import Table

    t = Table(title="thgeval metrics")
    for col in ("metric", "↑↓", "needs", "variants (default first)", "reproduces", "runs here"):
        t.add_column(col)
    for it in items:
        names = [it["default"]] + [v for v in it["variants"] if v != it["default"]]
        for i, vname in enumerate(names):
            v = it["variants"][vname]
            first = i == 0
            t.add_row(
                (it["name"] + (f" ({', '.join(it['aliases'])})" if it["aliases"] else "")) if first else "",
                it["direction"] if first else "", ", ".join(it["needs"]) if first else "",
                vname, v["reference"].split(";")[0][:80],
                "yes" if v["can_run"] else f"no: {v['why_not']}", end_section=i == len(names) - 1,
            )
    _console().print(t)
    return EXIT_OK


def cmd_datasets(args) -> int:
    import json

    from rich.markup import escape

    from .datasets import adapters, open_dataset

    if args.name is None:
        items = [{"name": a.name, "title": a.title, "splits": list(a.splits), "default_split": a.default_split,
                  "layout": a.layout, "licence": a.licence, "options": dict(a.options), "url": a.url}
                 for a in adapters()]
        if args.json:
            print(json.dumps(items, indent=2, ensure_ascii=False))
            return EXIT_OK
        from rich.table import Table

        t = Table(title="thgeval datasets (nothing is downloaded: point ROOT at your copy)")
        for col in ("dataset", "splits (default first)", "layout", "licence"):
            t.add_column(col)
        for it in items:
            splits = [it["default_split"]] + [s for s in it["splits"] if s != it["default_split"]]
            t.add_row(escape(it["name"]), escape(", ".join(splits)), escape(it["layout"]), escape(it["licence"]))
        _console().print(t)
        return EXIT_OK
    if args.root is None:
        _err("give the dataset's folder: thgeval datasets NAME ROOT")
        return EXIT_USAGE
    options = {}
    for spec in args.option:
        key, sep, value = spec.partition("=")
        if not sep:
            _err(f"--option {spec!r}: write KEY=VALUE")
            return EXIT_USAGE
        options[key.strip()] = value.strip()
    rep = open_dataset(args.name, args.root, args.split, probe=args.probe, workers=args.workers, **options)
    if args.json:
        print(json.dumps({"dataset": rep.dataset, "split": rep.split, "root": str(rep.root),
                          "expected": rep.expected, "found": rep.found, "probed": rep.probed,
                          "problems": [vars(p) for p in rep.problems], "notes": rep.notes,
                          "records": [r.as_dict() for r in rep.records]}, indent=2, ensure_ascii=False))
    else:
        console = _console()
        console.print(escape(rep.summary()))
        for n in rep.notes:
            console.print(f"note: {escape(n)}")
        for p in rep.problems[:200]:
            console.print(f"[yellow]{escape(p.kind)}:[/] {escape(str(p).split(': ', 1)[1])}")
        if len(rep.problems) > 200:
            console.print(f"… and {len(rep.problems) - 200} more problems (--json lists them all)")
    return EXIT_CLIP_FAILED if rep.problems else EXIT_OK


def cmd_protocols(args) -> int:
    import json
    from dataclasses import asdict

    from rich.markup import escape

    from .protocols import all_protocols, get_protocol, missing_metrics

    protos = [get_protocol(args.name)] if args.name else all_protocols()
    if args.json:
        print(json.dumps([{**asdict(p), "unavailable": missing_metrics(p)} for p in protos], indent=2,
                         ensure_ascii=False))
        return EXIT_OK
    c = _console()
    for p in protos:
        missing = missing_metrics(p)
        flag = "" if p.verified else " [yellow](unverified: no reference code)[/]"
        c.print(f"[bold]{escape(p.name)}[/] — {escape(p.title)}{flag}")
        c.print(f"  metrics: {escape(', '.join(m + (' (not in this build)' if m in missing else '') for m in p.metrics))}")
        c.print(f"  source: {escape(p.code)}")
        if args.name:
            c.print(f"  paper: {escape(p.paper)}")
            c.print(f"  layout: {escape(p.layout)}: {escape(p.layout_help)}")
            if p.notes:
                c.print(f"  notes: {escape(p.notes)}")
            for ch in p.checks:
                rule = " ".join(x for x in (f"≥ {ch.min:g}" if ch.min is not None else "",
                                            f"≤ {ch.max:g}" if ch.max is not None else "") if x)
                c.print(f"  self-check: {escape(ch.extra or ch.metric or '')} on {escape(ch.method)} {rule} "
                        f"({escape(ch.source)})")
    return EXIT_OK


def cmd_lipsync(args) -> int:
    from rich.markup import escape

    from .metrics.sample import SampleOptions
    from .report.lipsync import lipsync

    out = lipsync(args.input, args.out, gt=args.gt, video=not args.no_video,
                  options=SampleOptions(device=args.device))
    console = _console()
    console.print(f"{out.source} sync: offset {out.offset:+d} frames (positive: audio leads), "
                  f"confidence {out.confidence:.2f}")
    for p in (out.png, out.svg, out.mp4):
        if p is not None:
            console.print(f"  {escape(str(p))}")
    return EXIT_OK


def cmd_weights(args) -> int:
    from rich.markup import escape

    from . import weights

    console = _console()
    act = args.weights_command
    if act == "list":
        from rich.table import Table

        t = Table(title="thgeval weights")
        for col in ("name", "file", "present", "used by", "licence"):
            t.add_column(col)
        for e in weights.entries().values():
            p = weights.find(e.name)
            t.add_row(e.name, e.filename, escape(str(p)) if p else f"no: `{e.fetch_command}`",
                      ", ".join(e.used_by), escape(e.licence))
        console.print(t)
        return EXIT_OK
    if act == "path":
        print(weights.locate(args.name))
        return EXIT_OK
    if act == "verify":
        names = [args.name] if args.name else [n for n in weights.entries() if weights.find(n)]
        bad = 0
        for n in names:
            v = weights.verify(n)
            bad += not v.good
            console.print(f"{n}: [{'green' if v.good else 'red'}]{v.status}[/] — {escape(v.message)}")
        if not names:
            console.print("no weights file present; `thgeval weights list` shows what can be fetched")
        return EXIT_CLIP_FAILED if bad else EXIT_OK
    # fetch
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    entry = weights.get(args.name)
    with Progress(f"[bold]{entry.filename}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=None)
        path = weights.fetch(args.name, url=args.url, force=args.force,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    v = weights.verify(args.name)
    console.print(f"{escape(str(path))} ({v.status}: {escape(v.message)})")
    return EXIT_OK if v.good else EXIT_CLIP_FAILED


def cmd_demo(args) -> int:
    from rich.markup import escape

    from .demo import DEMO_METRICS, build, check_order
    from .report import write_outputs

    console = _console()
    root = Path(args.out)
    console.print(f"building the demo benchmark in {root} (Grace Hopper's portrait from matplotlib) …")
    gt_dir, dirs = build(root / "clips", n_clips=args.clips, n_frames=args.frames)
    result = _run_with_progress(console, False, gt=gt_dir, preds={m: d for m, d in dirs.items()},
                                out=root / "results", workers=args.workers, metrics=DEMO_METRICS)
    board, _ = write_outputs(result)
    print_result(console, result, board)
    from .report.html import write_report

    console.print(f"report: {write_report(result.out_dir)}", highlight=False)
    problems = check_order(board)
    if problems:
        for p in problems:
            console.print(f"[red]order violated:[/] {escape(p)}")
        return EXIT_CLIP_FAILED
    console.print("[green]✓[/] every metric ranks the variants in their known order")
    return EXIT_CLIP_FAILED if result.failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
