"""One job: every method's prediction of one clip, against its GT, decoded once.

Runs in a worker process; knows nothing of the store. GT frames are kept in memory for the
job when they fit the budget (decoded once for all methods), and re-streamed otherwise.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ClipError, MetricSkipped, MismatchError, ThgevalError
from ..io import ClipReader
from ..metrics import resolve
from ..io.conform import ConformPolicy, length_note, plan, resize_frames
from .store import FAILED, OK, SKIPPED, Row
from .pairing import REAL

GT_CACHE_BYTES = 1_500_000_000


@dataclass
class MethodTask:
    method: str
    pred: Path | None
    metrics: dict[str, str]  # metric@variant -> input_key, only the rows still to compute


@dataclass
class ClipTask:
    clip: str
    gt: Path | None
    real_metrics: dict[str, str]  # no-reference rows of the GT clip itself
    methods: list[MethodTask]
    policy: ConformPolicy = field(default_factory=ConformPolicy)
    chunk: int = 64
    threads: int = 1  # metrics of one chunk computed side by side (NumPy/OpenCV free the GIL)


@dataclass
class ClipOutcome:
    clip: str
    rows: list[Row]
    series: dict[str, dict[str, np.ndarray]]  # method -> metric@variant -> per-frame values
    frames_decoded: int = 0


def one_line(e: BaseException) -> str:
    if isinstance(e, ThgevalError):
        msg = str(e)
    else:
        msg = f"{type(e).__name__}: {e}"
    return " ".join(msg.split()) or type(e).__name__


class _Accumulator:
    """Per-frame values of one metric over a clip's chunks; stops at the first skip/failure."""

    def __init__(self, key: str, ikey: str):
        self.ref = resolve(key)
        self.ikey = ikey
        self.values: list[np.ndarray] = []
        self.status, self.reason = OK, ""

    def feed(self, pred: np.ndarray, gt: np.ndarray | None) -> None:
        if self.status != OK or len(pred) == 0:
            return
        try:
            v = self.ref.metric.frame_fn(pred, gt, **self.ref.params())
            self.values.append(np.asarray(v, dtype=np.float64).reshape(-1))
        except MetricSkipped as e:
            self.status, self.reason = SKIPPED, one_line(e)
        except Exception as e:  # a metric bug must not end the run: it becomes this row's reason
            self.status, self.reason = FAILED, one_line(e)

    def row(self, method: str, clip: str, notes: list[str]) -> tuple[Row, np.ndarray | None]:
        m, v = self.ref.metric, self.ref.variant
        per_frame = np.concatenate(self.values) if self.values else np.zeros(0)
        value, status, reason = None, self.status, self.reason
        if status == OK:
            if per_frame.size == 0:
                status, reason = FAILED, "no frames to compare"
            elif np.isnan(per_frame).any():
                status, reason = FAILED, f"metric gave NaN on {int(np.isnan(per_frame).sum())} frames"
            else:
                with np.errstate(invalid="ignore"):
                    value = float(np.mean(per_frame))
        row = Row(method, clip, m.name, v.name, m.version, self.ikey, value, status, reason,
                  "; ".join(notes), int(per_frame.size))
        return row, (per_frame if status == OK else None)


def _failed_rows(method, clip, metrics: dict[str, str], reason: str, notes=()) -> list[Row]:
    rows = []
    for key, ikey in metrics.items():
        ref = resolve(key)
        rows.append(Row(method, clip, ref.metric.name, ref.variant.name, ref.version, ikey, None,
                        FAILED, reason, "; ".join(notes)))
    return rows


def run_clip(task: ClipTask) -> ClipOutcome:
    """Compute every requested row of one clip; never raises for bad input."""
    if task.threads <= 1:
        return _run_clip(task, None)
    with ThreadPoolExecutor(task.threads) as pool:
        return _run_clip(task, pool)


def _run_clip(task: ClipTask, pool: ThreadPoolExecutor | None) -> ClipOutcome:
    out = ClipOutcome(task.clip, [], {})
    gt_reader, gt_error, gt_frames = None, None, None
    need_gt = bool(task.real_metrics) or any(
        "gt" in resolve(k).metric.needs for mt in task.methods for k in mt.metrics
    )
    if task.gt is not None and need_gt:
        try:
            gt_reader = ClipReader(task.gt, audio=False)
            info = gt_reader.info
            if info.frame_count * info.width * info.height * 3 <= GT_CACHE_BYTES:
                gt_frames = gt_reader.read_all()
                out.frames_decoded += len(gt_frames)
        except ClipError as e:
            gt_error = f"GT {one_line(e)}"

    if task.real_metrics:
        if gt_error:
            out.rows += _failed_rows(REAL, task.clip, task.real_metrics, gt_error)
        else:
            accs = [_Accumulator(k, ik) for k, ik in task.real_metrics.items()]
            try:
                for chunk in _chunks(gt_reader, gt_frames, task.chunk):
                    _feed(pool, [(a, chunk, None) for a in accs])
                out.rows += _collect(out, REAL, task.clip, accs, gt_reader.notes)
            except ClipError as e:
                out.rows += _failed_rows(REAL, task.clip, task.real_metrics, f"GT {one_line(e)}")

    for mt in task.methods:
        out.rows += _run_method(task, mt, gt_reader, gt_frames, gt_error, out, pool)
    return out


def _feed(pool: ThreadPoolExecutor | None, work: list) -> None:
    """Feed each accumulator its frames; side by side when the job was given spare cores."""
    if pool is None or len(work) <= 1:
        for a, p, g in work:
            a.feed(p, g)
        return
    list(pool.map(lambda w: w[0].feed(w[1], w[2]), work))


def _chunks(reader: ClipReader, cached: np.ndarray | None, size: int) -> Iterator[np.ndarray]:
    if cached is not None:
        for i in range(0, len(cached), size):
            yield cached[i:i + size]
    else:
        yield from reader.chunks(size)


def _collect(out: ClipOutcome, method: str, clip: str, accs, notes) -> list[Row]:
    rows = []
    for a in accs:
        row, series = a.row(method, clip, list(notes))
        rows.append(row)
        if series is not None:
            out.series.setdefault(method, {})[f"{row.metric}@{row.variant}"] = series
    return rows


def _run_method(task: ClipTask, mt: MethodTask, gt_reader, gt_frames, gt_error, out, pool) -> list[Row]:
    if not mt.metrics:
        return []
    if mt.pred is None:
        return _failed_rows(mt.method, task.clip, mt.metrics,
                            f"missing prediction: {mt.method} has no clip named {task.clip!r}")
    full = {k: v for k, v in mt.metrics.items() if "gt" in resolve(k).metric.needs}
    noref = {k: v for k, v in mt.metrics.items() if k not in full}
    rows: list[Row] = []
    notes: list[str] = []
    # Decide what the full-reference metrics can do before decoding anything.
    if full and task.gt is None:
        rows += [_skip(mt.method, task.clip, k, ik, f"no GT clip named {task.clip!r}") for k, ik in full.items()]
        full = {}
    elif full and gt_error:
        rows += _failed_rows(mt.method, task.clip, full, gt_error)
        full = {}
    try:
        reader = ClipReader(mt.pred, audio=False)
        cplan = None
        if full:
            try:
                cplan = plan(reader.info, gt_reader.info, task.policy)
            except MismatchError as e:
                rows += _failed_rows(mt.method, task.clip, full, one_line(e))
                full = {}
        noref_accs = [_Accumulator(k, ik) for k, ik in noref.items()]
        full_accs = [_Accumulator(k, ik) for k, ik in full.items()]
        if cplan is not None and cplan.pred_fps is not None:
            # No-reference metrics score the prediction's own frames, whatever else was asked
            # (like the real row): they get a native pass, the GT comparison a resampled one.
            if noref_accs:
                for pred in reader.chunks(task.chunk):
                    out.frames_decoded += len(pred)
                    _feed(pool, [(a, pred, None) for a in noref_accs])
                rows += _collect(out, mt.method, task.clip, noref_accs, reader.notes)
                noref_accs = []
            reader = ClipReader(mt.pred, fps=cplan.pred_fps, audio=False)
        notes += reader.notes + (list(cplan.notes) if cplan else [])
        gt_iter = _chunks(gt_reader, gt_frames, task.chunk) if full_accs else iter(())
        n_pred = n_gt = 0
        for pred in reader.chunks(task.chunk):
            n_pred += len(pred)
            work = [(a, pred, None) for a in noref_accs]
            gt = next(gt_iter, None) if full_accs else None
            if gt is not None:
                n_gt += len(gt)
                n = min(len(pred), len(gt))
                p = resize_frames(pred[:n], cplan.pred_size)
                g = resize_frames(gt[:n], cplan.gt_size)
                work += [(a, p, g) for a in full_accs]
            _feed(pool, work)
        out.frames_decoded += n_pred
        rows += _collect(out, mt.method, task.clip, noref_accs, notes)
        if full_accs:
            n_gt += len(gt_frames) - n_gt if gt_frames is not None else sum(len(c) for c in gt_iter)
            try:
                note = length_note(n_pred, n_gt, task.policy)
            except MismatchError as e:
                return rows + _failed_rows(mt.method, task.clip, full, one_line(e), notes)
            rows += _collect(out, mt.method, task.clip, full_accs, notes + ([note] if note else []))
    except ClipError as e:
        done = {(r.metric, r.variant) for r in rows}
        left = {k: v for k, v in {**full, **noref}.items() if tuple(k.split("@", 1)) not in done}
        rows += _failed_rows(mt.method, task.clip, left, one_line(e), notes)
    return rows


def _skip(method, clip, key, ikey, reason) -> Row:
    ref = resolve(key)
    return Row(method, clip, ref.metric.name, ref.variant.name, ref.version, ikey, None, SKIPPED, reason)
