"""Many clips at once: face analysis and alignment in a process pool (every core).

dlib's detector and shape predictor hold Python's GIL (measured: two threads run HOG
detection at 0.72–0.79× the throughput of one), so parallel work uses processes, one clip
per task, like the run engine. Workers load the models once each (about 0.9 s).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ThgevalError
from . import models
from .clip import analyze_clip
from .settings import FaceSettings
from .track import FaceTrack


def _init() -> None:
    import cv2

    cv2.setNumThreads(1)  # the pool fills the cores
    models.hog_detector()
    models.shape_predictor()


def _context():
    # A fork server: never fork a parent whose OpenCV / BLAS threads are running.
    return multiprocessing.get_context("forkserver")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_pool(fn: Callable, jobs: list[tuple], workers: int | None = None, progress=None) -> list:
    """``fn(*job)`` for every job, in a process pool of ``workers`` (None: every core), at
    most two jobs per worker in flight. Results in job order; a :class:`ThgevalError`
    becomes its one-line message."""
    workers = min(workers or default_workers(), len(jobs)) or 1
    results: list = [None] * len(jobs)

    if workers == 1:
        for i, job in enumerate(jobs):
            results[i] = _guarded(fn, job)
            if progress:
                progress(i + 1, len(jobs))
        return results
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, mp_context=_context()) as pool:
        todo = iter(enumerate(jobs))
        pending = {}
        done_n = 0

        def submit():
            nxt = next(todo, None)
            if nxt is not None:
                pending[pool.submit(_guarded, fn, nxt[1])] = nxt[0]

        for _ in range(2 * workers):
            submit()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                results[pending.pop(f)] = f.result()
                done_n += 1
                if progress:
                    progress(done_n, len(jobs))
                submit()
    return results


def _guarded(fn, job):
    try:
        return fn(*job)
    except ThgevalError as e:
        return str(e)


def analyze_clips(paths: Iterable[str | os.PathLike], *, settings: FaceSettings | None = None,
                  cache_dir: str | os.PathLike | None = None, workers: int | None = None,
                  progress=None) -> list[FaceTrack | str]:
    """:func:`analyze_clip` for many clips in parallel (cached like it).

    Returns one entry per path, in order: its :class:`FaceTrack`, or the one-line reason it
    failed (unreadable file).
    """
    settings = settings or FaceSettings()
    jobs = [(Path(p), settings, cache_dir) for p in paths]
    return run_pool(_analyze, jobs, workers, progress)


def _analyze(path: Path, settings: FaceSettings, cache_dir) -> FaceTrack:
    return analyze_clip(path, settings=settings, cache_dir=cache_dir)
