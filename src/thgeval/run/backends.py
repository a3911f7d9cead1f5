"""Execution backends: where clip jobs run.

Every backend hands each finished :class:`~thgeval.run.clipjob.ClipOutcome` back to the
calling process, which alone writes the store — so a row is never lost to a worker that dies
and never written twice by two of them. The backends differ only in where ``run_clip`` runs:

- ``inline``: in this process, one clip after the other (debugging, profiling).
- ``local``: a pool of worker processes on this machine (the default: every core). A clip
  that kills its worker (a crash in native code, the OOM killer) takes the pool down with
  every clip in flight; those clips are then run again one per process, so the culprit is
  found, recorded as failed with its exit status, and the rest are kept.
- ``ray``: one Ray task per clip on a Ray cluster (``--address``; without it a local Ray
  instance is started and stopped). The face-analysis and feature caches live under
  ``cache_dir``: on a cluster, put it on a filesystem every node sees.

Submission is bounded (two clips in flight per worker), so memory stays flat for 100k clips.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from ..errors import ConfigError
from .clipjob import ClipOutcome, ClipTask, failed_outcome, run_clip

BACKENDS = ("inline", "local", "ray")
# A worker is replaced after this many clips: whatever a long-lived process accumulates
# (allocator fragmentation, caches of decoders) stays bounded.
TASKS_PER_WORKER = 200

OnDone = Callable[[ClipOutcome], None]


def run_tasks(tasks: list[ClipTask], on_done: OnDone, *, backend: str = "local", workers: int = 1,
              address: str | None = None) -> None:
    """Run every clip job and call ``on_done(outcome)`` in this process as each finishes."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if address and backend != "ray":
        raise ConfigError("--address names a Ray cluster: use it with --backend ray")
    if not tasks:
        return
    if backend == "ray":
        _run_ray(tasks, on_done, workers, address)
    elif backend == "inline" or workers <= 1 or len(tasks) == 1:
        for t in tasks:
            on_done(_guarded(t))
    else:
        _run_local(tasks, on_done, workers)


def worker_threads(workers: int) -> int:
    """Threads each worker may use so that workers × threads fills the cores, no more."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def init_worker(threads: int = 1) -> None:
    """Cap the thread pools of OpenCV, FFmpeg's decoder, BLAS/OpenMP and torch in a worker: the
    pool already fills the cores, and oversubscribed workers run slower than fewer threads."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)  # read by torch / BLAS when first imported in this process
    import cv2

    from ..io import clip

    cv2.setNumThreads(threads)
    clip.DECODE_THREADS["count"] = threads
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _guarded(task: ClipTask) -> ClipOutcome:
    # run_clip reports bad input as rows; anything it raises is a bug, and costs one clip only.
    try:
        return run_clip(task)
    except Exception as e:  # noqa: BLE001 — recorded as the clip's failure, the run goes on
        return failed_outcome(task, f"internal error: {type(e).__name__}: {_line(e)}")


def _line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0][:300]


# --- local: a process pool ------------------------------------------------------------------
def pool_context():
    # Never fork a parent whose OpenCV / BLAS thread pools are running (children deadlock);
    # a fork server is a clean process that forks the workers, with thgeval preloaded.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["thgeval.run.clipjob"])
    return ctx


def _run_local(tasks: list[ClipTask], on_done: OnDone, workers: int) -> None:
    ctx = pool_context()
    threads = worker_threads(workers)
    queue = deque(tasks)
    while queue:
        suspects: list[ClipTask] = []
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=ctx, initializer=init_worker,
                                   initargs=(threads,), max_tasks_per_child=TASKS_PER_WORKER)
        inflight: dict = {}
        try:
            while queue or inflight:
                while queue and len(inflight) < 2 * workers:
                    t = queue.popleft()
                    inflight[pool.submit(_guarded, t)] = t
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                broken = False
                for f in finished:
                    t = inflight.pop(f)
                    try:
                        on_done(f.result())
                    except BrokenProcessPool:
                        suspects.append(t)
                        broken = True
                if broken:
                    suspects += inflight.values()  # all of them die with the pool
                    inflight.clear()
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        # Which clip killed the pool? Each suspect alone in a process of its own.
        for t in suspects:
            on_done(_isolated(t, ctx, threads))


def _child(conn, task: ClipTask, threads: int) -> None:
    init_worker(threads)
    conn.send(_guarded(task))
    conn.close()


def _isolated(task: ClipTask, ctx, threads: int) -> ClipOutcome:
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(send, task, threads), daemon=True)
    p.start()
    send.close()
    try:
        while True:
            if recv.poll(0.2):
                try:
                    out = recv.recv()
                except EOFError:
                    break
                p.join()
                return out
            if not p.is_alive() and not recv.poll(0):
                break
    finally:
        recv.close()
    p.join()
    return failed_outcome(task, f"the worker process died on this clip ({_exit_status(p.exitcode)}): "
                                "a crash in native code or the out-of-memory killer")


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# --- ray: a task per clip -------------------------------------------------------------------
def _ray_clip(task: ClipTask, threads: int) -> ClipOutcome:
    init_worker(threads)
    return _guarded(task)


def _run_ray(tasks: list[ClipTask], on_done: OnDone, workers: int, address: str | None) -> None:
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs Ray: pip install 'thgeval[ray]'") from None
    import logging

    started = not ray.is_initialized()
    if started:
        kw = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            if address:
                ray.init(address=address, **kw)
            else:  # a local instance sized like the local backend
                ray.init(num_cpus=workers, **kw)
        except Exception as e:  # noqa: BLE001 — Ray's connection errors have no common base
            raise ConfigError(f"cannot start or reach Ray ({address or 'local instance'}): {_line(e)}") from None
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_clip)
        threads = 1 if address else worker_threads(workers)
        queue, inflight = deque(tasks), {}
        while queue or inflight:
            while queue and len(inflight) < 2 * cpus:
                t = queue.popleft()
                inflight[remote.remote(t, threads)] = t
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                t = inflight.pop(ref)
                try:
                    out = ray.get(ref)
                except ray.exceptions.RayError as e:  # the worker died, or the task could not run
                    out = failed_outcome(t, f"Ray task failed: {type(e).__name__}: {_line(e)}")
                on_done(out)
    finally:
        if started:
            ray.shutdown()
