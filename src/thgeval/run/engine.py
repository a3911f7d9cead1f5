"""Evaluation: plan the rows, reuse what the store has, compute the rest in parallel.

Data flows one way: pairing → plan (input keys against the store) → clip jobs in worker
processes → rows written per clip as each finishes → the run's rows returned.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import ConfigError
from ..io.conform import ConformPolicy
from ..metrics import FRAME, SET, MetricRef, all_variants, resolve_list
from ..metrics.registry import plugins
from ..metrics.sample import SampleOptions
from ..weights import find as find_weights, home
from .backends import BACKENDS, run_tasks
from .clipjob import ClipOutcome, ClipTask, MethodTask
from .features import FeatureCache, feature_key
from .inputs import list_references, read_texts
from .progress import RunProgress
from .pairing import REAL, Pairing, pair_folders, pair_manifest, pair_wav2lip_filelist, parse_pred_args
from .setlevel import set_rows
from .store import FAILED, OK, Row, Store, input_key
from .versions import software_versions


@dataclass
class RunResult:
    """What a run produced: its rows (reused and new), and what happened on the way."""

    run_id: int
    out_dir: Path
    rows: list[Row]
    metrics: list[MetricRef]
    methods: list[str]
    problems: list[str]
    config: dict
    versions: dict
    computed: int = 0
    reused: int = 0
    frames_decoded: int = 0
    seconds: float = 0.0
    pairs: list = field(default_factory=list)  # (method, clip, pred path, GT path): what was compared

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == FAILED]


def evaluate(
    gt: str | os.PathLike | None = None,
    preds: dict[str, str | os.PathLike] | list[str] | None = None,
    *,
    manifest: str | os.PathLike | None = None,
    metrics: str | list[str] | None = None,
    out: str | os.PathLike = "thgeval-out",
    workers: int | None = None,
    backend: str = "local",
    address: str | None = None,
    policy: ConformPolicy | None = None,
    retry_failed: bool = False,
    chunk: int = 64,
    progress: Callable[[RunProgress], None] | None = None,
    references: str | os.PathLike | None = None,
    transcripts: str | os.PathLike | dict[str, str] | None = None,
    hypotheses: dict[str, str | os.PathLike | dict[str, str]] | None = None,
    device: str = "cpu",
    batch_size: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    every_variant: bool = False,
    protocol: str | None = None,
    filelist: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
) -> RunResult:
    """Evaluate methods' clips against GT clips and store every row in ``out``.

    Parameters
    ----------
    gt : folder of ground-truth clips (paired with predictions by file stem).
    preds : ``{"method": folder}`` or ``["method=folder", ...]``.
    manifest : CSV with ``method, pred, gt`` columns instead of ``gt`` / ``preds``.
    metrics : ``"psnr,ssim@skimage-uniform7"`` or a list; None runs every metric that can run.
    out : output folder; its SQLite store makes a repeated run compute nothing new.
    workers : processes (default: every core; the ray backend: CPUs of a local Ray instance).
    backend : ``inline`` (this process), ``local`` (a process pool) or ``ray`` (a task per
        clip on a Ray cluster at ``address``, or a local Ray instance): identical rows.
    policy : how pred is conformed to GT when fps, size or length differ.
    retry_failed : compute rows that failed before again, even with unchanged inputs.
    progress : called with a :class:`~thgeval.run.progress.RunProgress` after each clip.
    references : folder of source images named like the clips (identity metrics); by default
        those metrics use the first valid GT frame.
    transcripts : ``id text`` file (or dict) of what is said in each clip.
    hypotheses : ``{method: file or dict}`` of a recogniser's transcripts of each method's
        clips (``real`` for the GT clips).
    device : ``cpu`` or ``cuda`` for network metrics.
    batch_size : items per network call; None: each metric chooses from the device's free memory.
    cache_dir : face tracks and set-metric features (default ``$THGEVAL_HOME/cache``).
    every_variant : compute every variant of each requested metric (the disagreement report).
    protocol : a paper's protocol (``thgeval protocols``): its layout, metric variants and
        self-checks; ``metrics`` then adds to or replaces nothing unless given.
    filelist, data_root : the Wav2Lip filelist layout's inputs (protocols ``wav2lip-*``).
    """
    t0 = time.perf_counter()
    policy = policy or ConformPolicy()
    proto, proto_problems = _protocol(protocol, filelist, data_root)
    pairing = _pairing(gt, preds, manifest, proto, filelist, data_root)
    if proto is not None and metrics is None:
        metrics = [m for m in proto.metrics if m not in proto_problems]
    refs = _metrics(metrics)
    if every_variant:
        refs = all_variants(refs)
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    workers = 1 if backend == "inline" else max(1, workers or os.cpu_count() or 1)
    cache_root = Path(cache_dir) if cache_dir is not None else home() / "cache"
    side = _SideInputs(
        references=list_references(references) if references else {},
        transcripts=_texts(transcripts),
        hypotheses={m: _texts(h) for m, h in (hypotheses or {}).items()},
        options=SampleOptions(policy=policy, device=device, cache_dir=cache_root, batch_size=batch_size),
        features=FeatureCache(cache_root / "features"),
    )
    store = Store(out)
    versions = software_versions()
    config = {
        "gt": str(gt) if gt is not None else None,
        "preds": {m: str(p) for m, p in (_pred_dict(preds) or {}).items()},
        "manifest": str(manifest) if manifest else None,
        "metrics": [
            {"metric": r.metric.name, "variant": r.variant.name, "version": r.version,
             "params": r.params(), "aggregation": r.variant.aggregation, "reference": r.variant.reference,
             **({"runtime": r.runtime()} if r.runtime() else {})}
            for r in refs
        ],
        "conform": policy.as_dict(),
        "chunk": chunk,
        "backend": backend,
        "all_variants": every_variant,
        "protocol": None if proto is None else {
            "name": proto.name, "title": proto.title, "paper": proto.paper, "code": proto.code,
            "verified": proto.verified, "metrics": list(proto.metrics), "unavailable": proto_problems,
            "filelist": str(filelist) if filelist else None, "data_root": str(data_root) if data_root else None},
        "device": device,
        "batch_size": batch_size,
        "references": str(references) if references else None,
        "transcripts": len(side.transcripts) or None,
        "hypotheses": sorted(side.hypotheses) or None,
        "cache_dir": str(cache_root),
        "plugins": plugins() or None,
    }
    run_id = store.start_run(config, versions)
    try:
        tasks, reused, problems = _plan(store, pairing, refs, policy, retry_failed, chunk, side)
        _spare_threads(tasks, workers)
        unavailable = [f"protocol {proto.name}: metric {m} is not available in this thgeval build; "
                       "its column is missing" for m in proto_problems] if proto else []
        result = RunResult(run_id, store.dir, reused, refs, pairing.methods,
                           unavailable + pairing.problems + problems, config, versions, reused=len(reused),
                           pairs=[(p.method, p.clip, p.pred, p.gt) for p in pairing.pairs])
        _execute(store, tasks, run_id, result, progress, side.features, backend=backend, workers=workers,
                 address=address)
        set_rows(store, pairing, [r for r in refs if r.metric.kind == SET], side.features, _Hashes(store),
                 run_id, result, retry_failed)
        if proto is not None:
            from ..protocols import run_checks

            result.problems += run_checks(proto, result.rows)
        store.finish_run(run_id)
    finally:
        store.close()
    result.rows.sort(key=lambda r: (r.method != REAL, r.method, r.clip, r.metric, r.variant))
    result.seconds = time.perf_counter() - t0
    return result


def _pred_dict(preds) -> dict[str, Path] | None:
    if preds is None:
        return None
    if isinstance(preds, dict):
        return {str(k): Path(v) for k, v in preds.items()}
    return parse_pred_args(list(preds))


def _protocol(name, filelist, data_root):
    if name is None:
        if filelist or data_root:
            raise ConfigError("--filelist/--data-root belong to a protocol's layout: give --protocol too")
        return None, []
    from ..protocols import get_protocol, missing_metrics

    proto = get_protocol(name)
    if proto.layout == "wav2lip-filelist" and not (filelist and data_root):
        raise ConfigError(f"protocol {proto.name} needs --filelist and --data-root: {proto.layout_help}")
    if proto.layout != "wav2lip-filelist" and (filelist or data_root):
        raise ConfigError(f"protocol {proto.name} takes no --filelist/--data-root: {proto.layout_help}")
    return proto, missing_metrics(proto)


def _pairing(gt, preds, manifest, proto=None, filelist=None, data_root=None) -> Pairing:
    if proto is not None and proto.layout == "wav2lip-filelist":
        if gt is not None or manifest is not None:
            raise ConfigError(f"protocol {proto.name} pairs clips through --filelist; drop --gt/--manifest")
        pd = _pred_dict(preds)
        if not pd:
            raise ConfigError("nothing to evaluate: give at least one --pred NAME=DIR")
        return pair_wav2lip_filelist(filelist, data_root, pd)
    if manifest is not None:
        if gt is not None or preds:
            raise ConfigError("give either --manifest or --gt/--pred, not both")
        return pair_manifest(manifest)
    pd = _pred_dict(preds)
    if not pd:
        raise ConfigError("nothing to evaluate: give at least one --pred NAME=DIR (or --manifest)")
    return pair_folders(gt, pd)


def _metrics(metrics) -> list[MetricRef]:
    refs = resolve_list(metrics)
    if metrics is None:  # the default: every metric that can run here
        refs = [r for r in refs if not r.metric.why_not(r.variant.name)]
    if not refs:
        raise ConfigError("no metric selected")
    return refs


@dataclass
class _SideInputs:
    references: dict[str, Path]
    transcripts: dict[str, str]
    hypotheses: dict[str, dict[str, str]]
    options: SampleOptions
    features: FeatureCache


def _texts(src) -> dict[str, str]:
    if src is None:
        return {}
    return dict(src) if isinstance(src, dict) else read_texts(src)


class _Hashes:
    """Content hashes of input files, read once (the store remembers them across runs)."""

    def __init__(self, store: Store):
        self.store, self.known = store, {}

    def __call__(self, p: Path | None) -> str | None:
        if p is None:
            return None
        if p not in self.known:
            try:
                self.known[p] = self.store.sha256(p)
            except OSError:
                self.known[p] = None  # unreadable: the clip job reports why
        return self.known[p]


def _weights_id(ref: MetricRef) -> dict:
    """Which weights files a row used (path, size, mtime): new weights, new rows."""
    out = {}
    for name in dict.fromkeys(ref.metric.weights + ref.variant.weights):
        p = find_weights(name)
        out[name] = None if p is None else [str(p), p.stat().st_size, p.stat().st_mtime_ns]
    return out


def _row_key(ref: MetricRef, sha, *, pred, gt, policy, side: _SideInputs, clip: str, method: str,
             audio=None) -> str:
    """Everything the row's number depends on, hashed."""
    m = ref.metric
    parts = dict(pred=sha(pred), pred_path=None if pred is None or sha(pred) else str(pred),
                 metric=ref.key, version=ref.version, params=ref.params())
    if m.kind == FRAME:
        if not m.no_reference:
            parts.update(gt=sha(gt), policy=policy.as_dict())
        return input_key(**parts)
    parts["weights"] = _weights_id(ref)
    runtime = ref.runtime()
    if runtime:  # e.g. which encoder encoder="auto" picked here: another tool, another row
        parts["runtime"] = runtime
    if m.kind == SET:
        parts["features"] = feature_key(ref)
        return input_key(**parts)
    ref_img = side.references.get(clip)
    parts.update(gt=sha(gt), policy=policy.as_dict(), reference=sha(ref_img),
                 transcript=side.transcripts.get(clip), hypothesis=side.hypotheses.get(method, {}).get(clip),
                 face=repr(side.options.face), why_not=m.why_not(ref.variant.name), audio=sha(audio))
    return input_key(**parts)


def _plan(store: Store, pairing: Pairing, refs, policy, retry_failed, chunk, side: _SideInputs):
    """Split the requested rows into reused ones and clip jobs for the rest."""
    sha = _Hashes(store)
    reused: list[Row] = []
    problems: list[str] = []
    noref = [r for r in refs if r.metric.no_reference or r.metric.kind == SET]

    def wanted(method, clip, pred, gt, metric_refs) -> dict[str, str]:
        todo = {}
        for ref in metric_refs:
            ikey = _row_key(ref, sha, pred=pred, gt=gt, policy=policy, side=side, clip=clip, method=method,
                            audio=None if method == REAL else pairing.audio.get(clip))
            old = store.get(method, clip, ref.metric.name, ref.variant.name)
            if old is not None and old.input_key == ikey and not (
                old.status == FAILED and (retry_failed or old.tool_version != __version__)
            ) and not (ref.metric.kind == SET and old.status == OK
                       and not side.features.has(old.extra.get("features", ""), sha(pred))):
                reused.append(old)
            else:
                todo[ref.key] = ikey
        return todo

    def task(clip: str) -> ClipTask:
        gt = pairing.gt.get(clip)
        return ClipTask(clip, gt, {}, [], policy, chunk, gt_sha=sha(gt), plugins=tuple(plugins()),
                        reference=side.references.get(clip),
                        transcript=side.transcripts.get(clip), real_hypothesis=side.hypotheses.get(REAL, {}).get(clip),
                        options=side.options, feature_dir=side.features.root, audio_source=pairing.audio.get(clip))

    by_clip: dict[str, ClipTask] = {}
    for clip in pairing.clips():
        by_clip[clip] = task(clip)
        gt = pairing.gt.get(clip)
        if gt is not None:
            by_clip[clip].real_metrics = wanted(REAL, clip, gt, None, noref)
    for pair in pairing.pairs:
        if pair.gt is None:
            problems.append(f"{pair.method}/{pair.clip}: no GT clip of that name; only no-reference metrics run")
        todo = wanted(pair.method, pair.clip, pair.pred, pair.gt, refs)
        if todo:
            hyp = side.hypotheses.get(pair.method, {}).get(pair.clip)
            by_clip[pair.clip].methods.append(MethodTask(pair.method, pair.pred, todo, sha(pair.pred), hyp))
    unknown = set(side.hypotheses) - set(pairing.methods) - {REAL}
    if unknown:
        problems.append(f"hypotheses given for unknown methods: {', '.join(sorted(unknown))}")
    tasks = [t for t in by_clip.values() if t.real_metrics or t.methods]
    return tasks, reused, problems


def _spare_threads(tasks: list[ClipTask], workers: int) -> None:
    # Fewer clips than cores (one long clip, say): share the cores out inside each job.
    per_job = max(1, workers // max(1, len(tasks)))
    for t in tasks:
        t.threads = per_job


def _execute(store: Store, tasks: list[ClipTask], run_id: int, result: RunResult, progress,
             features: FeatureCache, *, backend: str, workers: int, address: str | None):
    state = RunProgress(len(tasks))

    def done(outcome: ClipOutcome):
        # Features first: a row that says "extracted" must never point at a missing file.
        for (fkey, fsha), arr in outcome.features.items():
            features.put(fkey, fsha, arr)
        store.put(outcome.rows, run_id, __version__)
        for method, series in outcome.series.items():
            store.put_series(method, outcome.clip, series)
        result.rows += outcome.rows
        result.computed += len(outcome.rows)
        result.frames_decoded += outcome.frames_decoded
        state.done += 1
        state.failed += any(r.status == FAILED for r in outcome.rows)
        state.clip = outcome.clip
        if progress:
            progress(state)

    run_tasks(tasks, done, backend=backend, workers=workers, address=address)
