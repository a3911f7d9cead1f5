"""A benchmark: several datasets × several methods × metrics, from one TOML file.

``thgeval bench CONFIG.toml`` runs :func:`thgeval.run.evaluate` once per dataset into
``OUT/<dataset>/`` (its own store, so a killed benchmark resumes dataset by dataset and clip
by clip) and writes ``OUT/bench.md`` / ``OUT/bench.json`` with every dataset's leaderboard
and problems. The format (paths relative to the config file)::

    out = "bench-out"                         # output folder
    metrics = ["psnr", "ssim", "lmd_mouth"]   # name or name@variant; omitted: every metric
    device = "cpu"                            # optional: network device, batch_size, workers

    [[datasets]]
    name = "grid"                             # folder name in OUT
    adapter = "grid"                          # a thgeval.datasets adapter reading root/split …
    root = "/data/GRID"
    split = "unseen-test"
    options = { }                             # adapter options (list = "…", metadata = "…")
    probe = true                              # check every file against the split (fps, size, audio)
    methods = { wav2lip = "gen/wav2lip/grid", sadtalker = "gen/sadtalker/grid" }

    [[datasets]]
    name = "vox"
    gt = "/data/vox/test"                     # … or a GT folder (pairing by file name) …
    # manifest = "pairs.csv"                  # … or a manifest (paths inside its folder)
    methods = { wav2lip = "gen/wav2lip/vox" }
    references = "/data/vox/sources"          # optional: source images, transcripts = "…"
"""

from __future__ import annotations

import csv
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError, ThgevalError

from .backends import BACKENDS
_DATASET_KEYS = {"name", "adapter", "root", "split", "options", "probe", "gt", "manifest", "methods", "references",
                 "transcripts", "hyp"}
_TOP_KEYS = {"out", "metrics", "device", "batch_size", "workers", "datasets"}


@dataclass
class DatasetSpec:
    name: str
    methods: dict[str, Path]
    adapter: str | None = None
    root: Path | None = None
    split: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    probe: bool = False  # adapter: also check every file (fps, size, audio) and report it
    gt: Path | None = None
    manifest: Path | None = None
    references: Path | None = None
    transcripts: Path | None = None
    hyp: dict[str, Path] = field(default_factory=dict)


@dataclass
class BenchConfig:
    out: Path
    datasets: list[DatasetSpec]
    metrics: list[str] | None = None
    device: str = "cpu"
    batch_size: int | None = None
    workers: int | None = None
    source: Path | None = None


def load_config(path: str | os.PathLike) -> BenchConfig:
    """Read and check a benchmark file; ConfigError names the key that is wrong."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the benchmark file ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    base = path.resolve().parent

    def p(v, where):
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{path}: {where} must be a path (text)")
        q = Path(v).expanduser()
        return q if q.is_absolute() else base / q

    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_TOP_KEYS))})")
    sets = doc.get("datasets")
    if not isinstance(sets, list) or not sets:
        raise ConfigError(f"{path}: give at least one [[datasets]] table")
    specs, names = [], set()
    for i, d in enumerate(sets):
        where = f"datasets[{i}]"
        bad = set(d) - _DATASET_KEYS
        if bad:
            raise ConfigError(f"{path}: {where} has unknown key(s) {', '.join(sorted(bad))}")
        name = d.get("name")
        if not isinstance(name, str) or not name or "/" in name or name in names:
            raise ConfigError(f"{path}: {where}.name must be a unique folder name")
        names.add(name)
        sources = [k for k in ("adapter", "gt", "manifest") if k in d]
        if len(sources) != 1:
            raise ConfigError(f"{path}: {where} ({name}) needs exactly one of adapter, gt, manifest; got "
                              f"{', '.join(sources) or 'none'}")
        methods = d.get("methods")
        if not isinstance(methods, dict) or not methods:
            raise ConfigError(f"{path}: {where} ({name}) needs methods = {{ NAME = \"folder\", … }}")
        spec = DatasetSpec(name, {m: p(f, f"{where}.methods.{m}") for m, f in methods.items()})
        if "adapter" in d:
            if "root" not in d:
                raise ConfigError(f"{path}: {where} ({name}) uses adapter {d['adapter']!r}: give its root")
            spec.adapter, spec.root, spec.split = str(d["adapter"]), p(d["root"], f"{where}.root"), d.get("split")
            spec.options = dict(d.get("options", {}))
            spec.probe = bool(d.get("probe", False))
        spec.gt = p(d["gt"], f"{where}.gt") if "gt" in d else None
        spec.manifest = p(d["manifest"], f"{where}.manifest") if "manifest" in d else None
        spec.references = p(d["references"], f"{where}.references") if "references" in d else None
        spec.transcripts = p(d["transcripts"], f"{where}.transcripts") if "transcripts" in d else None
        spec.hyp = {m: p(f, f"{where}.hyp.{m}") for m, f in dict(d.get("hyp", {})).items()}
        specs.append(spec)
    metrics = doc.get("metrics")
    if isinstance(metrics, str):
        metrics = [m for m in metrics.split(",") if m.strip()]
    return BenchConfig(p(doc.get("out", "bench-out"), "out"), specs, metrics, str(doc.get("device", "cpu")),
                       doc.get("batch_size"), doc.get("workers"), path)


def check_manifest_inside(manifest: Path, root: Path | None = None) -> None:
    """Every path of a manifest lies inside its root (default: the manifest's folder), read
    lexically: ``..`` or an absolute path elsewhere is refused; symbolic links inside the root
    are the user's business (data is often linked in)."""
    root = Path(os.path.normpath(os.path.abspath(root or manifest.parent)))
    with open(manifest, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            for col in ("pred", "gt", "audio"):
                v = (row.get(col) or "").strip()
                if not v:
                    continue
                q = Path(os.path.normpath(os.path.abspath(manifest.parent / v)))
                if not q.is_relative_to(root):
                    raise ConfigError(f"{manifest}:{n}: {col} path {v!r} leaves the manifest's folder {root}; refused")


@dataclass
class DatasetOutcome:
    name: str
    out: Path
    result: Any = None  # RunResult
    problems: list[str] = field(default_factory=list)
    summary: str = ""
    error: str = ""
    board: Any = None  # Leaderboard


def run_bench(config: BenchConfig, *, backend: str = "local", address: str | None = None,
              retry_failed: bool = False, progress: Callable[[str, Any], None] | None = None) -> list[DatasetOutcome]:
    """Evaluate every dataset of a benchmark; a dataset that cannot be read is reported, and
    the others still run. ``progress(dataset, RunProgress)`` after each clip."""
    from ..datasets import open_dataset
    from ..report.files import write_outputs
    from .engine import evaluate

    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if address and backend != "ray":
        raise ConfigError("--address names a Ray cluster: use it with --backend ray")
    workers = 1 if backend == "inline" else config.workers
    outcomes = []
    for spec in config.datasets:
        out = config.out / spec.name
        oc = DatasetOutcome(spec.name, out)
        outcomes.append(oc)
        kw: dict[str, Any] = dict(metrics=config.metrics, out=out, workers=workers, backend=backend, address=address,
                                  device=config.device,
                                  batch_size=config.batch_size, retry_failed=retry_failed,
                                  references=spec.references, transcripts=spec.transcripts,
                                  hypotheses=dict(spec.hyp) or None,
                                  progress=(lambda st, _s=spec.name: progress(_s, st)) if progress else None)
        try:
            if spec.adapter:
                report = open_dataset(spec.adapter, spec.root, spec.split, probe=spec.probe, **spec.options)
                oc.summary = report.summary()
                oc.problems = [str(p) for p in report.problems]
                rows, _ = report.pairs(spec.methods)
                out.mkdir(parents=True, exist_ok=True)
                manifest = out / "manifest.csv"
                with open(manifest, "w", newline="", encoding="utf-8") as f:
                    w = csv.DictWriter(f, ["method", "clip", "pred", "gt"])
                    w.writeheader()
                    w.writerows(rows)  # a clip a method lacks becomes its failed "missing prediction" row
                if spec.transcripts is None and report.transcripts():
                    kw["transcripts"] = report.transcripts()
                oc.result = evaluate(manifest=manifest, **kw)
            elif spec.manifest:
                check_manifest_inside(spec.manifest)
                oc.result = evaluate(manifest=spec.manifest, **kw)
            else:
                oc.result = evaluate(spec.gt, {m: str(f) for m, f in spec.methods.items()}, **kw)
            oc.problems += list(oc.result.problems)
            oc.board, _ = write_outputs(oc.result)
        except ThgevalError as e:
            oc.error = str(e).splitlines()[0]
    write_bench_report(config, outcomes)
    return outcomes


def write_bench_report(config: BenchConfig, outcomes: list[DatasetOutcome]) -> tuple[Path, Path]:
    """``OUT/bench.md`` (every dataset's leaderboard and problems) and ``OUT/bench.json``."""
    from ..report.files import markdown_table

    config.out.mkdir(parents=True, exist_ok=True)
    md = [f"# Benchmark: {config.source.name if config.source else ''}", ""]
    js: dict[str, Any] = {"config": str(config.source) if config.source else None, "datasets": {}}
    for oc in outcomes:
        md += [f"## {oc.name}", ""]
        entry: dict[str, Any] = {"out": str(oc.out), "summary": oc.summary, "problems": oc.problems,
                                 "error": oc.error or None}
        if oc.summary:
            md += [oc.summary, ""]
        if oc.error:
            md += [f"**Not evaluated:** {oc.error}", ""]
        elif oc.board is not None:
            md += [markdown_table(oc.board), ""]
            entry["leaderboard"] = str(oc.out / "leaderboard.json")
            entry["rows"] = {"computed": oc.result.computed, "reused": oc.result.reused,
                             "failed": len(oc.result.failed)}
        if oc.problems:
            md += ["Problems:", ""] + [f"- {p}" for p in oc.problems] + [""]
        js["datasets"][oc.name] = entry
    a, b = config.out / "bench.md", config.out / "bench.json"
    a.write_text("\n".join(md), encoding="utf-8")
    b.write_text(json.dumps(js, indent=2), encoding="utf-8")
    return a, b
