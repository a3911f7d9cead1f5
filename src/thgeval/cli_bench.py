"""The ``bench`` command (read a benchmark TOML, run every dataset, print where the tables are)."""

from __future__ import annotations

import argparse


def add_bench_parser(sub) -> None:
    b = sub.add_parser("bench", help="run a benchmark file: several datasets × methods × metrics",
                       description="Run a benchmark described in a TOML file (datasets, methods, metrics, "
                                   "output); see thgeval.run.bench for the format.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("config", metavar="CONFIG.toml")
    b.add_argument("--backend", choices=("inline", "local", "ray"), default="local",
                   help="inline: one process; local: a process pool over every core; ray: a task per clip on a "
                        "Ray cluster (default: %(default)s)")
    b.add_argument("--address", metavar="HOST:PORT", help="the Ray cluster of --backend ray (default: start a local one)")
    b.add_argument("--workers", type=int, metavar="N",
                   help="processes of the local backend, CPUs of a local Ray instance (default: every core)")
    b.add_argument("--retry-failed", action="store_true", help="recompute rows that failed before")
    b.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_bench(args) -> int:
    from rich.markup import escape

    from .cli import EXIT_CLIP_FAILED, EXIT_OK, _console
    from .run.bench import load_config, run_bench

    config = load_config(args.config)
    if args.workers:
        config.workers = args.workers
    console = _console()
    progress = None
    if not args.quiet:
        def progress(dataset, p):  # one line per clip: a log survives where a bar does not (batch jobs)
            console.print(f"[dim]{escape(dataset)}: {escape(p.line())} · {escape(p.clip)}[/dim]", highlight=False)
    outcomes = run_bench(config, backend=args.backend, address=args.address, retry_failed=args.retry_failed,
                         progress=progress)
    bad = False
    for oc in outcomes:
        if oc.error:
            bad = True
            console.print(f"[red]{escape(oc.name)}: not evaluated: {escape(oc.error)}[/red]", highlight=False)
            continue
        r = oc.result
        bad |= bool(r.failed)
        line = f"{oc.name}: {r.computed} rows computed, {r.reused} reused, {len(r.failed)} failed → {oc.out}"
        console.print(escape(line), highlight=False)
        for p in oc.problems[:20]:
            console.print(f"  [yellow]problem[/yellow]: {escape(p)}", highlight=False)
        if len(oc.problems) > 20:
            console.print(f"  … {len(oc.problems) - 20} more problems in {escape(str(config.out / 'bench.md'))}")
    console.print(f"tables: {escape(str(config.out / 'bench.md'))}, {escape(str(config.out / 'bench.json'))}")
    if any(oc.board is not None for oc in outcomes):
        from .report.html import write_report

        console.print(f"report: {escape(str(write_report(config.out)))}")
    return EXIT_CLIP_FAILED if bad else EXIT_OK
