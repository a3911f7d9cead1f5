"""The ``thgeval`` command: parse, call the library, print. No logic lives here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
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
    e.add_argument("--on-fps-mismatch", choices=FPS_POLICIES, default="resample",
                   help="pred fps differs from GT: resample pred by timestamps (default) or fail the clip")
    e.add_argument("--on-size-mismatch", choices=SIZE_POLICIES, default="pred-to-gt",
                   help="frame sizes differ: resize pred to GT (default), GT to pred, or fail the clip")
    e.add_argument("--on-length-mismatch", choices=LENGTH_POLICIES, default="common",
                   help="lengths differ: compare the common frames (default) or fail the clip")
    e.add_argument("--retry-failed", action="store_true", help="recompute rows that failed before")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    m = sub.add_parser("metrics", help="every metric, its variants, what it needs, whether it can run here")
    m.add_argument("--json", action="store_true", help="machine-readable output")

    a = sub.add_parser("align", help="write aligned face crops of clips (a GT/pred pair shares one transform)")
    a.add_argument("inputs", nargs="+", metavar="IN", help="clips, or folders of clips, to align")
    a.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (<name>.mp4 each; GT crops in DIR/gt)")
    a.add_argument("--mode", choices=("similarity", "box"), default="similarity",
                   help="similarity: landmarks to a canonical template; box: SyncNet-style box crop (default: %(default)s)")
    a.add_argument("--size", type=int, default=256, help="side of the square crops, pixels (default: %(default)s)")
    a.add_argument("--gt", metavar="GT", help="ground-truth clip, or folder of clips paired by name: the "
                   "transform is computed on GT and applied to both, so pixels correspond")
    a.add_argument("--detector", choices=("hog", "cnn"), default="hog", help="face detector (default: %(default)s)")
    a.add_argument("--workers", type=int, metavar="N", help="processes (default: every core)")

    d = sub.add_parser("demo", help="build a small benchmark from a bundled real portrait and evaluate it")
    d.add_argument("--out", metavar="DIR", default="thgeval-demo", help="folder for the clips and results")
    d.add_argument("--clips", type=int, default=3, help="clips per method (default: %(default)s)")
    d.add_argument("--frames", type=int, default=50, help="frames per clip (default: %(default)s)")
    d.add_argument("--workers", type=int, metavar="N")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"eval": cmd_eval, "metrics": cmd_metrics, "demo": cmd_demo, "align": cmd_align}[args.command](args)
    except ThgevalError as e:
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; finished clips are stored, run the same command again to resume")
        return 130


def _run_with_progress(console, quiet: bool, **kwargs):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .run import evaluate

    if quiet:
        return evaluate(**kwargs)
    with Progress(TextColumn("[bold]evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done, total, clip):
            bar.update(task, completed=done, total=total, description=clip)

        return evaluate(progress=progress, **kwargs)


def print_result(console, result, board) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .report.leaderboard import fmt

    t = Table(title="Leaderboard: mean ± std over clips")
    t.add_column("method", style="bold")
    for ref in board.metrics:
        unit = f" {ref.metric.unit}" if ref.metric.unit else ""
        t.add_column(escape(f"{ref.metric.title} {ref.metric.arrow}{unit}"), justify="right")
    t.add_column("clips", justify="right")
    for m in board.methods:
        cells, n = [], 0
        for ref in board.metrics:
            c = board.cell(m, ref)
            n = max(n, c.n + c.failed + c.skipped)
            if c.mean is None:
                cells.append("skipped" if c.skipped else ("failed" if c.failed else "–"))
                continue
            text = fmt(c.mean) + (f" ± {fmt(c.std)}" if c.n > 1 and c.std == c.std else "")
            if c.failed or c.skipped:
                text += f" ({c.n} ok)"
            cells.append(text)
        t.add_row(escape(m), *[escape(x) for x in cells], str(n))
    console.print(t)
    console.print("variants: " + escape(", ".join(r.key for r in board.metrics)) + "; 95 % CIs in leaderboard.md")
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
        metrics=args.metrics, out=args.out, workers=args.workers, policy=policy, retry_failed=args.retry_failed,
    )
    board, _ = write_outputs(result)
    print_result(console, result, board)
    return EXIT_CLIP_FAILED if result.failed else EXIT_OK


def cmd_metrics(args) -> int:
    import json

    from .metrics import all_metrics

    items = []
    for m in all_metrics():
        why = m.why_not()
        items.append({
            "name": m.name, "title": m.title, "direction": m.arrow, "unit": m.unit, "range": m.value_range,
            "needs": sorted(m.needs) or ["nothing (no reference)"], "default": m.default_variant,
            "variants": {v.name: v.reference for v in m.variants.values()}, "version": m.version,
            "aliases": list(m.aliases), "kind": m.kind, "can_run": not why, "why_not": why,
        })
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.table import Table

    t = Table(title="thgeval metrics")
    for col in ("metric", "↑↓", "needs", "variants (default first)", "runs here"):
        t.add_column(col)
    for it in items:
        variants = [it["default"]] + [v for v in it["variants"] if v != it["default"]]
        t.add_row(it["name"] + (f" ({', '.join(it['aliases'])})" if it["aliases"] else ""), it["direction"],
                  ", ".join(it["needs"]), "\n".join(variants), "yes" if it["can_run"] else f"no: {it['why_not']}")
    _console().print(t)
    return EXIT_OK


def cmd_demo(args) -> int:
    from rich.markup import escape

    from .demo import build, check_order
    from .report import write_outputs

    console = _console()
    root = Path(args.out)
    console.print(f"building the demo benchmark in {root} (Grace Hopper's portrait from matplotlib) …")
    gt_dir, dirs = build(root / "clips", n_clips=args.clips, n_frames=args.frames)
    result = _run_with_progress(console, False, gt=gt_dir, preds={m: d for m, d in dirs.items()},
                                out=root / "results", workers=args.workers)
    board, _ = write_outputs(result)
    print_result(console, result, board)
    problems = check_order(board)
    if problems:
        for p in problems:
            console.print(f"[red]order violated:[/] {escape(p)}")
        return EXIT_CLIP_FAILED
    console.print("[green]✓[/] every metric ranks the variants in their known order")
    return EXIT_CLIP_FAILED if result.failed else EXIT_OK


def cmd_align(args) -> int:
    from .face import FaceSettings
    from .face.aligner import align_clips

    if args.size < 16:
        _err(f"--size must be at least 16 pixels; got {args.size}")
        return EXIT_USAGE
    results = align_clips(args.inputs, args.out, gt=args.gt, mode=args.mode, size=args.size,
                          settings=FaceSettings(detector=args.detector), workers=args.workers)
    failed = 0
    for src, r in results:
        if isinstance(r, str):
            failed += 1
            print(f"failed: {r}", file=sys.stderr)
            continue
        fit = f", template fit {r.residual_px:.1f} px" if r.residual_px is not None else ""
        gt = f" (+ GT {r.gt_output})" if r.gt_output else ""
        print(f"{src} → {r.output}{gt}: {r.valid_frames}/{r.frames} frames with a face{fit}")
        for n in r.notes:
            print(f"  note: {n}")
    return EXIT_CLIP_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
