"""Scale: a synthetic benchmark of N short clips × 3 methods through ``thgeval bench``.

Every backend (inline, local with 1 and 2 workers, Ray with 2 CPUs) runs the same benchmark
file into a fresh output folder; reported: wall time, clips/s (GT clips, each with its three
predictions), and the peak resident memory of the whole process tree (driver, pool workers,
Ray's processes), sampled every 0.2 s — flat in N is what "bounded memory" means.

    python benchmarks/bench_scale.py --clips 1000 [--backends inline,local1,local2,ray2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

METRICS = ["psnr", "ssim", "cpbd"]


def make_clips(root: Path, n: int, frames: int = 25, size: int = 96) -> None:
    from thgeval.io import write_clip

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        phase = rng.uniform(0, 2 * np.pi)
        f = np.stack([(127 + 100 * np.sin(xx / 7.0 + yy / 11.0 + phase + t / 3.0))[..., None].repeat(3, -1)
                      for t in range(frames)]).astype(np.uint8)
        f[..., 1] = np.roll(f[..., 1], i % 9, axis=1)
        name = f"s{i:05d}.mp4"
        write_clip(root / "gt" / name, f, 25, crf=18)
        write_clip(root / "a" / name, f, 25, crf=30)
        write_clip(root / "b" / name, f[:, ::-1].copy(), 25, crf=23)
        write_clip(root / "c" / name, np.clip(f.astype(np.int16) + 12, 0, 255).astype(np.uint8), 25, crf=23)


def tree_rss() -> int:
    """Resident bytes of this process and every descendant."""
    me = os.getpid()
    parent, rss = {}, {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            parent[int(d.name)] = int(fields[1])
            rss[int(d.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    total, seen = 0, set()
    for pid in rss:
        p, chain = pid, []
        while p in parent and p not in seen and p != me and p > 1:
            chain.append(p)
            p = parent[p]
        if p == me or p in seen:
            seen.update(chain)
    for pid in seen | {me}:
        total += rss.get(pid, 0)
    return total


def run(root: Path, backend: str, workers: int) -> dict:
    from thgeval.run.bench import load_config, run_bench

    out = root / f"out_{backend}{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cfg = root / f"{backend}{workers}.toml"
    cfg.write_text(f"out = '{out}'\nmetrics = {METRICS!r}\nworkers = {workers}\n"
                   "[[datasets]]\nname = 'syn'\ngt = 'gt'\nmethods = { a = 'a', b = 'b', c = 'c' }\n")
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss())
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    (oc,) = run_bench(load_config(cfg), backend=backend)
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    assert not oc.error and not oc.result.failed, oc.error or oc.result.failed[:3]
    n = len({r.clip for r in oc.result.rows})
    return {"backend": backend, "workers": workers, "clips": n, "rows": oc.result.computed, "wall_s": wall,
            "clips_per_s": n / wall, "peak_rss_mb": peak[0] / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=1000)
    ap.add_argument("--backends", default="inline1,local1,local2,ray2")
    ap.add_argument("--keep", metavar="DIR", help="build the clips here (and keep them)")
    a = ap.parse_args()
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="thgeval-scale-"))
    if not (root / "gt").is_dir() or len(list((root / "gt").glob("*.mp4"))) != a.clips:
        shutil.rmtree(root / "gt", ignore_errors=True)
        t0 = time.perf_counter()
        make_clips(root, a.clips)
        print(f"made {a.clips} clips × 4 in {time.perf_counter() - t0:.0f} s", flush=True)
    results = []
    for spec in a.backends.split(","):
        backend, workers = spec.rstrip("0123456789"), int(spec[len(spec.rstrip("0123456789")):] or 1)
        r = run(root, backend, workers)
        results.append(r)
        print(f"{backend:6s} workers={workers}: {r['clips']} clips ({r['rows']} rows) in {r['wall_s']:.1f} s = "
              f"{r['clips_per_s']:.2f} clips/s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    by = {(r["backend"], r["workers"]): r for r in results}
    if ("local", 1) in by and ("local", 2) in by:
        print(f"local 1 → 2 workers: {by[('local', 2)]['clips_per_s'] / by[('local', 1)]['clips_per_s']:.2f}×")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
