"""Frame-level metrics over a clip: per-frame values accumulated chunk by chunk.

Two sources of chunks feed the same accumulators: frames streamed from readers (bounded
memory, the default when only frame metrics run) and slices of frames a job already holds
in memory (when clip-level metrics decoded the clip anyway), so no clip is decoded twice.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np

from ..errors import MetricSkipped, ThgevalError
from ..metrics import resolve
from ..metrics.chunk_memo import shared_chunk
from .store import FAILED, OK, SKIPPED, Row


def one_line(e: BaseException) -> str:
    """An exception as the one line stored with a row."""
    msg = str(e) if isinstance(e, ThgevalError) else f"{type(e).__name__}: {e}"
    return " ".join(msg.split()) or type(e).__name__


class Accumulator:
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


def feed(pool: ThreadPoolExecutor | None, work: list) -> None:
    """Feed each accumulator its frames; side by side when the job was given spare cores.
    Metrics fed the same chunk share their common intermediate results (``shared_chunk``)."""
    with shared_chunk():
        if pool is None or len(work) <= 1:
            for a, p, g in work:
                a.feed(p, g)
            return
        futures = [pool.submit(contextvars.copy_context().run, a.feed, p, g) for a, p, g in work]
        for f in futures:
            f.result()


def slices(frames: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for i in range(0, len(frames), size):
        yield frames[i:i + size]


def run_in_memory(pool, noref: list[Accumulator], full: list[Accumulator], pred: np.ndarray,
                  conformed_pred: np.ndarray | None, conformed_gt: np.ndarray | None, chunk: int) -> None:
    """Frame metrics on frames already decoded: no-reference ones on the native prediction,
    full-reference ones on the prediction conformed to GT."""
    for p in slices(pred, chunk):
        feed(pool, [(a, p, None) for a in noref])
    if full and conformed_pred is not None:
        for p, g in zip(slices(conformed_pred, chunk), slices(conformed_gt, chunk)):
            feed(pool, [(a, p, g) for a in full])
