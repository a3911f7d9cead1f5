"""One job: every method's prediction of one clip, against its GT, decoded once.

Runs in a worker process; knows nothing of the store. The job's rows come in three kinds
(see :mod:`thgeval.metrics.registry`): frame metrics are fed chunk by chunk, clip metrics
get a :class:`~thgeval.metrics.sample.Sample`, set metrics extract the clip's features
(the set value is computed by the engine once every clip is done). Clip-level metrics
need whole clips in memory; when only frame metrics run, clips are streamed instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ClipError, MetricSkipped, MismatchError, ThgevalError
from ..io import ClipReader
from ..io.conform import ConformPolicy, length_note, plan, resize_frames
from ..metrics import CLIP, FRAME, SET, ClipValue, resolve
from ..metrics.registry import load_plugins
from ..metrics.sample import FRAME_BUDGET_BYTES, PRED, MediaCache, Sample, SampleOptions
from .features import FeatureCache, extractor_params, feature_key
from .framepass import Accumulator, feed, one_line, run_in_memory, slices
from .pairing import REAL
from .store import FAILED, OK, SKIPPED, Row


@dataclass
class MethodTask:
    method: str
    pred: Path | None
    metrics: dict[str, str]  # metric@variant -> input_key, only the rows still to compute
    pred_sha: str | None = None
    hypothesis: str | None = None  # a recogniser's transcript of this prediction (--hyp)


@dataclass
class ClipTask:
    clip: str
    gt: Path | None
    real_metrics: dict[str, str]  # no-reference rows of the GT clip itself
    methods: list[MethodTask]
    policy: ConformPolicy = field(default_factory=ConformPolicy)
    chunk: int = 64
    threads: int = 1  # metrics of one chunk computed side by side (NumPy/OpenCV free the GIL)
    gt_sha: str | None = None
    reference: Path | None = None  # source image of the identity metrics
    transcript: str | None = None
    real_hypothesis: str | None = None
    options: SampleOptions = field(default_factory=SampleOptions)
    feature_dir: Path | None = None  # the feature cache (read here, written by the engine)
    audio_source: Path | None = None  # the clip whose speech drove the generation, if not GT
    plugins: tuple[str, ...] = ()  # metric plugin modules the worker must import (as the parent did)


@dataclass
class ClipOutcome:
    clip: str
    rows: list[Row]
    series: dict[str, dict[str, np.ndarray]]  # method -> metric@variant -> per-frame values
    frames_decoded: int = 0
    features: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (feature key, sha)


def run_clip(task: ClipTask) -> ClipOutcome:
    """Compute every requested row of one clip; never raises for bad input."""
    if task.plugins:
        # A plugin this worker cannot import fails only the rows of its own metrics (they
        # do not resolve); the other metrics of the clip are computed.
        load_plugins(task.plugins, strict=False)
    if task.threads <= 1:
        return _Job(task, None).run()
    with ThreadPoolExecutor(task.threads) as pool:
        return _Job(task, pool).run()


def failed_outcome(task: ClipTask, reason: str) -> ClipOutcome:
    """Every row the job owed, failed with one reason (its worker crashed or raised)."""
    rows = _failed_rows(REAL, task.clip, task.real_metrics, reason)
    for mt in task.methods:
        rows += _failed_rows(mt.method, task.clip, mt.metrics, reason)
    return ClipOutcome(task.clip, rows, {})


def _split(metrics: dict[str, str]) -> dict[str, dict[str, str]]:
    """Group ``{metric@variant: input_key}`` by kind, frame ones by whether they need GT."""
    out = {"noref": {}, "full": {}, CLIP: {}, SET: {}}
    for k, ik in metrics.items():
        m = resolve(k).metric
        group = ("noref" if m.no_reference else "full") if m.kind == FRAME else m.kind
        out[group][k] = ik
    return out


def _row(method, clip, key, ikey, status, reason="", notes=(), value=None, n=0, extra=None) -> Row:
    ref = resolve(key)
    return Row(method, clip, ref.metric.name, ref.variant.name, ref.version, ikey, value, status,
               reason, "; ".join(n_ for n_ in notes if n_), n, extra=dict(extra or {}))


def _failed_rows(method, clip, metrics: dict[str, str], reason: str, notes=()) -> list[Row]:
    return [_row(method, clip, k, ik, FAILED, reason, notes) for k, ik in metrics.items()]


class _Job:
    def __init__(self, task: ClipTask, pool):
        self.task, self.pool = task, pool
        self.out = ClipOutcome(task.clip, [], {})
        self.media = MediaCache()
        self.features = FeatureCache(task.feature_dir) if task.feature_dir else None
        self.gt_reader: ClipReader | None = None
        self.gt_frames: np.ndarray | None = None
        self.gt_error: str | None = None

    # --- the job -----------------------------------------------------------------------------
    def run(self) -> ClipOutcome:
        t = self.task
        groups = [_split(t.real_metrics)] + [_split(mt.metrics) for mt in t.methods]
        real = groups[0]
        # set metrics whose GT features are cached need no GT decode (the feature cache is
        # what makes the real side of a dataset cost once)
        need_gt = (bool(real["noref"] or real[CLIP]) or not self._all_cached(t.gt_sha, real[SET])
                   or any(g["full"] or g[CLIP] for g in groups[1:]))
        whole = any(g[CLIP] or g[SET] for g in groups)
        if t.gt is not None and need_gt:
            self._open_gt(whole)
        if t.real_metrics:
            self._real(groups[0])
        for mt, g in zip(t.methods, groups[1:]):
            self.out.rows += self._method(mt, g)
        self.out.frames_decoded += self.media.frames_decoded
        return self.out

    def _open_gt(self, whole: bool) -> None:
        try:
            self.gt_reader = ClipReader(self.task.gt, audio=False)
            info = self.gt_reader.info
            if info.frame_count * info.width * info.height * 3 <= FRAME_BUDGET_BYTES:
                if whole:  # clip metrics will want it (and its audio): decode once for all
                    self.gt_frames = self.media.decoded(self.task.gt).frames
                else:
                    self.gt_frames = self.gt_reader.read_all()
                    self.out.frames_decoded += len(self.gt_frames)
        except ClipError as e:
            self.gt_error = f"GT {one_line(e)}"
        except MetricSkipped:
            pass  # over the memory budget: frame metrics stream it; clip metrics say why

    def _gt_chunks(self):
        if self.gt_frames is not None:
            return slices(self.gt_frames, self.task.chunk)
        return self.gt_reader.chunks(self.task.chunk)

    def _sample(self, method: str, pred: Path, gt: Path | None, hypothesis: str | None) -> Sample:
        t = self.task
        return Sample(method, t.clip, pred, gt, reference=t.reference, transcript=t.transcript,
                      hypothesis=hypothesis, options=t.options, media=self.media,
                      audio_source=None if method == REAL else t.audio_source)

    # --- the GT clip's own rows ------------------------------------------------------------
    def _real(self, g: dict) -> None:
        t = self.task
        if self.gt_error:
            self.out.rows += _failed_rows(REAL, t.clip, t.real_metrics, self.gt_error)
            return
        if g["noref"]:
            accs = [Accumulator(k, ik) for k, ik in g["noref"].items()]
            try:
                for chunk in self._gt_chunks():
                    feed(self.pool, [(a, chunk, None) for a in accs])
                self.out.rows += self._collect(REAL, accs, self.gt_reader.notes)
            except ClipError as e:
                self.out.rows += _failed_rows(REAL, t.clip, g["noref"], f"GT {one_line(e)}")
        if g[CLIP] or g[SET]:
            sample = self._sample(REAL, t.gt, None, t.real_hypothesis)
            self.out.rows += [self._clip_row(sample, k, ik) for k, ik in g[CLIP].items()]
            self.out.rows += [self._feature_row(sample, t.gt_sha, k, ik) for k, ik in g[SET].items()]

    # --- one method's prediction -----------------------------------------------------------
    def _method(self, mt: MethodTask, g: dict) -> list[Row]:
        t = self.task
        if not mt.metrics:
            return []
        if mt.pred is None:
            return _failed_rows(mt.method, t.clip, mt.metrics,
                                f"missing prediction: {mt.method} has no clip named {t.clip!r}")
        rows: list[Row] = []
        needs_gt = {**g["full"], **{k: ik for k, ik in g[CLIP].items() if "gt" in resolve(k).metric.needs}}
        if needs_gt and t.gt is None:
            rows += [_row(mt.method, t.clip, k, ik, SKIPPED, f"no GT clip named {t.clip!r}") for k, ik in needs_gt.items()]
        elif needs_gt and self.gt_error:
            rows += _failed_rows(mt.method, t.clip, needs_gt, self.gt_error)
        if needs_gt and (t.gt is None or self.gt_error):
            g = {**g, "full": {}, CLIP: {k: v for k, v in g[CLIP].items() if k not in needs_gt}}
        if g[CLIP] or g[SET]:
            sample = self._sample(mt.method, mt.pred, None if self.gt_error else t.gt, mt.hypothesis)
            if not (g[CLIP] or g["noref"] or g["full"]) and self._all_cached(mt.pred_sha, g[SET]):
                return rows + [self._feature_row(sample, mt.pred_sha, k, ik) for k, ik in g[SET].items()]
            try:
                sample.frames(PRED)
            except ClipError as e:
                return rows + _failed_rows(mt.method, t.clip, {**g["noref"], **g["full"], **g[CLIP], **g[SET]},
                                           one_line(e))
            except MetricSkipped as e:  # too long to hold: frame metrics stream, the rest skip
                rows += [_row(mt.method, t.clip, k, ik, SKIPPED, one_line(e)) for k, ik in {**g[CLIP], **g[SET]}.items()]
                return rows + self._frames_streamed(mt, g)
            rows += self._frames_in_memory(mt, g, sample)
            rows += [self._clip_row(sample, k, ik) for k, ik in g[CLIP].items()]
            rows += [self._feature_row(sample, mt.pred_sha, k, ik) for k, ik in g[SET].items()]
            return rows
        return rows + self._frames_streamed(mt, g)

    def _frames_in_memory(self, mt: MethodTask, g: dict, sample: Sample) -> list[Row]:
        noref = [Accumulator(k, ik) for k, ik in g["noref"].items()]
        full = [Accumulator(k, ik) for k, ik in g["full"].items()]
        if not noref and not full:
            return []
        rows: list[Row] = []
        cp = cg = None
        notes: list[str] = []
        if full:
            try:
                c = sample.conformed()
                cp, cg, notes = c.pred, c.gt, c.notes
            except (MismatchError, ClipError) as e:
                rows += _failed_rows(mt.method, self.task.clip, g["full"], one_line(e))
                full = []
        run_in_memory(self.pool, noref, full, sample.frames(PRED), cp, cg, self.task.chunk)
        pred_notes = self.media.decoded(mt.pred).notes
        return rows + self._collect(mt.method, noref, pred_notes) + self._collect(mt.method, full, notes)

    def _frames_streamed(self, mt: MethodTask, g: dict) -> list[Row]:
        """Frame metrics with the prediction streamed (bounded memory)."""
        t = self.task
        full, noref = dict(g["full"]), dict(g["noref"])
        if not full and not noref:
            return []
        rows: list[Row] = []
        notes: list[str] = []
        try:
            reader = ClipReader(mt.pred, audio=False)
            cplan = None
            if full:
                try:
                    cplan = plan(reader.info, self.gt_reader.info, t.policy)
                except MismatchError as e:
                    rows += _failed_rows(mt.method, t.clip, full, one_line(e))
                    full = {}
            noref_accs = [Accumulator(k, ik) for k, ik in noref.items()]
            full_accs = [Accumulator(k, ik) for k, ik in full.items()]
            if cplan is not None and cplan.pred_fps is not None:
                # No-reference metrics score the prediction's own frames, whatever else was
                # asked (like the real row): a native pass, then a resampled one for GT.
                if noref_accs:
                    for pred in reader.chunks(t.chunk):
                        self.out.frames_decoded += len(pred)
                        feed(self.pool, [(a, pred, None) for a in noref_accs])
                    rows += self._collect(mt.method, noref_accs, reader.notes)
                    noref_accs = []
                reader = ClipReader(mt.pred, fps=cplan.pred_fps, audio=False)
            notes += reader.notes + (list(cplan.notes) if cplan else [])
            gt_iter = self._gt_chunks() if full_accs else iter(())
            n_pred = n_gt = 0
            for pred in reader.chunks(t.chunk):
                n_pred += len(pred)
                work = [(a, pred, None) for a in noref_accs]
                gt = next(gt_iter, None) if full_accs else None
                if gt is not None:
                    n_gt += len(gt)
                    n = min(len(pred), len(gt))
                    # one pair of chunk objects for every metric: they share work on it (chunk_memo)
                    pc, gc = resize_frames(pred[:n], cplan.pred_size), resize_frames(gt[:n], cplan.gt_size)
                    work += [(a, pc, gc) for a in full_accs]
                feed(self.pool, work)
            self.out.frames_decoded += n_pred
            rows += self._collect(mt.method, noref_accs, notes)
            if full_accs:
                n_gt += len(self.gt_frames) - n_gt if self.gt_frames is not None else sum(len(c) for c in gt_iter)
                try:
                    note = length_note(n_pred, n_gt, t.policy)
                except MismatchError as e:
                    return rows + _failed_rows(mt.method, t.clip, full, one_line(e), notes)
                rows += self._collect(mt.method, full_accs, notes + ([note] if note else []))
        except ClipError as e:
            done = {(r.metric, r.variant) for r in rows}
            left = {k: v for k, v in {**full, **noref}.items() if tuple(k.split("@", 1)) not in done}
            rows += _failed_rows(mt.method, t.clip, left, one_line(e), notes)
        return rows

    def _collect(self, method: str, accs: list[Accumulator], notes) -> list[Row]:
        rows = []
        for a in accs:
            row, series = a.row(method, self.task.clip, list(notes))
            rows.append(row)
            if series is not None:
                self.out.series.setdefault(method, {})[row.metric_key] = series
        return rows

    # --- clip-level and set-level metrics ----------------------------------------------------
    def _clip_row(self, sample: Sample, key: str, ikey: str) -> Row:
        ref = resolve(key)
        try:
            cv = ref.metric.clip_fn(sample, **ref.params())
            if not isinstance(cv, ClipValue):
                raise TypeError(f"{ref.metric.name}: clip_fn returned {type(cv).__name__}, not ClipValue")
            value = float(cv.value)
            if value != value:
                return _row(sample.method, sample.clip, key, ikey, FAILED, "metric gave NaN", cv.notes, n=cv.n_frames)
        except MetricSkipped as e:
            return _row(sample.method, sample.clip, key, ikey, SKIPPED, one_line(e))
        except Exception as e:  # bad input or a metric bug: this row's reason, the run goes on
            return _row(sample.method, sample.clip, key, ikey, FAILED, one_line(e))
        if cv.series is not None:
            self.out.series.setdefault(sample.method, {})[ref.key] = np.asarray(cv.series, dtype=np.float64)
        return _row(sample.method, sample.clip, key, ikey, OK, "", cv.notes, value, int(cv.n_frames), cv.extra)

    def _all_cached(self, sha: str | None, set_metrics: dict[str, str]) -> bool:
        """Every set metric's features of the clip with this hash are already extracted."""
        if sha is None:
            return not set_metrics
        for key in set_metrics:
            fkey = feature_key(resolve(key))
            if (fkey, sha) not in self.out.features and not (self.features and self.features.has(fkey, sha)):
                return False
        return True

    def _feature_row(self, sample: Sample, sha: str | None, key: str, ikey: str) -> Row:
        """A set metric's per-clip row: the clip's features extracted (the value comes later)."""
        ref = resolve(key)
        fkey = feature_key(ref)
        try:
            if sha is None:
                raise MetricSkipped("clip has no content hash (unreadable file)")
            if (fkey, sha) in self.out.features:
                n = len(self.out.features[(fkey, sha)])
            elif self.features is not None and self.features.has(fkey, sha):
                n = len(self.features.load(fkey, sha))
            else:
                feats = np.asarray(ref.metric.features_fn(sample, PRED, **extractor_params(ref)))
                if feats.ndim != 2 or not len(feats):
                    raise ThgevalError(f"{ref.metric.name}: no features extracted (shape {feats.shape})")
                self.out.features[(fkey, sha)] = feats
                n = len(feats)
        except MetricSkipped as e:
            return _row(sample.method, sample.clip, key, ikey, SKIPPED, one_line(e))
        except Exception as e:
            return _row(sample.method, sample.clip, key, ikey, FAILED, one_line(e))
        return _row(sample.method, sample.clip, key, ikey, OK, "", (), None, n, {"features": fkey})
