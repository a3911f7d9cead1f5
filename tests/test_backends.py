"""Execution backends: identical rows from inline, local and Ray; a clip that kills its worker
is one failed clip; a run SIGKILLed at random points resumes with every finished row once,
nothing recomputed, and the tables of an uninterrupted run."""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import moving_frames
from thgeval.io import write_clip
from thgeval.metrics.registry import load_plugins
from thgeval.run import evaluate

TESTS = Path(__file__).resolve().parent
ray = pytest.importorskip("ray", reason="the ray backend needs the ray extra")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("backends")
    names = ["c0", "c1", "crash2", "c3", "boom4", "c5"]
    for i, name in enumerate(names):
        f = moving_frames(20, h=64, w=80, seed=i)
        write_clip(root / "gt" / f"{name}.mp4", f, 25, lossless=True)
        write_clip(root / "m" / f"{name}.mp4", f[::-1].copy(), 25, lossless=True)
    return root


@pytest.fixture
def plugin(monkeypatch):
    # Ray's workers import from PYTHONPATH (pool workers get this process's sys.path).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    load_plugins(["_crash_plugin"])
    yield
    # later tests' runs must not hand the plugin to their workers
    from thgeval.metrics import registry

    registry._PLUGINS.remove("_crash_plugin")
    registry._REGISTRY.pop("crash_probe", None)
    sys.modules.pop("_crash_plugin", None)


def _rows(result):
    return sorted((r.method, r.clip, r.metric, r.variant, r.status, r.value) for r in result.rows)


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_clip_that_kills_its_worker_is_one_failed_clip(clips, plugin, tmp_path, backend):
    r = evaluate(clips / "gt", {"m": clips / "m"}, metrics=["psnr", "crash_probe"], out=tmp_path / backend,
                 workers=2, backend=backend)
    by = {(x.method, x.clip, x.metric): x for x in r.rows}
    crashed = [x for x in r.rows if x.clip == "crash2"]
    assert crashed and all(x.status == "failed" for x in crashed)
    if backend == "local":
        assert "killed by SIGKILL" in by[("m", "crash2", "crash_probe")].reason
    else:
        assert "Ray task failed" in by[("m", "crash2", "crash_probe")].reason
    assert "RuntimeError: probe exploded" in by[("m", "boom4", "crash_probe")].reason  # one row, not the clip
    assert by[("m", "boom4", "psnr")].status == "ok"
    good = [x for x in r.rows if x.clip in ("c0", "c1", "c3", "c5")]
    assert len(good) == 4 * 3 and all(x.status == "ok" for x in good)  # psnr, probe of m and of real
    # the store has every row once, the crashed clip's too
    with sqlite3.connect(tmp_path / backend / "thgeval.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == len(r.rows) == 6 * 3


def test_internal_error_costs_one_clip(clips, monkeypatch, tmp_path):
    from thgeval.run import backends

    def broken(task):
        if task.clip == "c1":
            raise ValueError("bug in a job")
        return real(task)

    real = backends.run_clip
    monkeypatch.setattr(backends, "run_clip", broken)
    r = evaluate(clips / "gt", {"m": clips / "m"}, metrics=["psnr"], out=tmp_path, backend="inline")
    bad = [x for x in r.rows if x.status == "failed"]
    assert [x.clip for x in bad] == ["c1"] and "internal error: ValueError: bug in a job" in bad[0].reason
    assert sum(x.status == "ok" for x in r.rows) == 5


def test_same_rows_on_every_backend(clips, plugin, tmp_path):
    keep = tmp_path / "keep"
    for name in ("c0", "c1", "c3", "boom4"):
        for side in ("gt", "m"):
            (keep / side).mkdir(parents=True, exist_ok=True)
            os.symlink(clips / side / f"{name}.mp4", keep / side / f"{name}.mp4")
    tables = {}
    for backend in ("inline", "local", "ray"):
        r = evaluate(keep / "gt", {"m": keep / "m"}, metrics=["psnr", "ssim", "cpbd", "crash_probe"],
                     out=tmp_path / backend, workers=2, backend=backend)
        assert r.computed == 4 * 4 + 4 * 2  # pred: 4 metrics; real: cpbd, probe
        tables[backend] = _rows(r)
    assert tables["inline"] == tables["local"] == tables["ray"]
    assert sum(1 for t in tables["inline"] if t[4] == "failed") == 2  # boom4's probe, pred and real


def test_ray_address_needs_the_ray_backend(clips, tmp_path):
    from thgeval.errors import ConfigError

    with pytest.raises(ConfigError, match="--backend ray"):
        evaluate(clips / "gt", {"m": clips / "m"}, metrics=["psnr"], out=tmp_path, backend="local",
                 address="127.0.0.1:6379")


# --- kill and resume ---------------------------------------------------------------------
N_CLIPS = 10


@pytest.fixture(scope="module")
def kill_bench(tmp_path_factory):
    """A one-dataset benchmark slow enough for kills to land mid-run (about 0.3 s a clip on a
    2-core machine: 300 frames, since the metrics got faster)."""
    root = tmp_path_factory.mktemp("killbench")
    for i in range(N_CLIPS):
        f = moving_frames(300, h=144, w=176, seed=100 + i)
        write_clip(root / "gt" / f"k{i}.mp4", f, 25, lossless=True)
        write_clip(root / "a" / f"k{i}.mp4", f[::-1].copy(), 25, crf=30)
        write_clip(root / "b" / f"k{i}.mp4", f, 25, crf=40)
    text = ("metrics = ['psnr', 'ssim', 'cpbd']\nworkers = 2\n[[datasets]]\nname = 'syn'\ngt = 'gt'\n"
            "methods = { a = 'a', b = 'b' }\n")
    from thgeval.run.bench import load_config, run_bench

    (root / "ref.toml").write_text("out = 'ref'\n" + text)
    (oc,) = run_bench(load_config(root / "ref.toml"), backend="inline")
    assert not oc.error and oc.result.computed == N_CLIPS * (3 * 2 + 1)
    return root, text


def _snapshot(out: Path) -> dict:
    db = out / "syn" / "thgeval.sqlite"
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return {tuple(r[:4]): (r[4], r[5], r[6]) for r in
                con.execute("SELECT method, clip, metric, variant, run_id, created, value FROM results")}


def _per_clip(out: Path):
    with open(out / "syn" / "per_clip.csv", newline="") as f:
        return sorted(tuple(r.values()) for r in csv.DictReader(f))


def _session_alive(sid: int) -> list[int]:
    """Processes still in the killed run's session (Ray's raylet, pool workers...)."""
    left = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if os.getsid(int(d.name)) == sid and "Z" not in (d / "stat").read_text().split(")")[-1][:3]:
                    left.append(int(d.name))
            except (ProcessLookupError, PermissionError, FileNotFoundError, OSError):
                pass
    return left


@pytest.mark.parametrize("backend", ["inline", "local", "ray"])
def test_sigkill_at_random_points_then_resume(kill_bench, backend):
    root, text = kill_bench
    cfg = root / f"{backend}.toml"
    cfg.write_text(f"out = 'out_{backend}'\n" + text)
    out = root / f"out_{backend}"
    rng = random.Random(f"kill-{backend}")
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS.parent / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "thgeval.cli", "bench", str(cfg), "--backend", backend]
    before: dict = {}
    kills = 0
    # 1st kill at a random moment (start-up included), then after a random number of clips
    plans = [("seconds", rng.uniform(0.5, 4.0)), ("clips", rng.randint(1, 4)), ("clips", rng.randint(1, 3))]
    for kind, at in plans:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                             start_new_session=True)
        t0, done = time.monotonic(), 0
        if kind == "seconds":
            time.sleep(at)
        else:
            for line in p.stdout:
                if " clips" in line and "syn:" in line:
                    done = int(line.split("syn:")[1].split("/")[0])
                    if done >= at:
                        break
                if time.monotonic() - t0 > 120:
                    break
        finished_already = p.poll() is not None
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        p.stdout.close()
        deadline = time.monotonic() + 20
        while _session_alive(p.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _session_alive(p.pid), f"{backend}: processes of the killed run live on"
        now = _snapshot(out)
        # every row finished before is still there, unchanged (not recomputed, not lost)
        assert all(now.get(k) == v for k, v in before.items())
        assert not finished_already, "the run finished before the kill: make the benchmark slower"
        kills += 1
        before = now
    assert kills == 3 and 0 < len(before) < N_CLIPS * 7
    r = subprocess.run(cmd + ["--quiet"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    final = _snapshot(out)
    assert len(final) == N_CLIPS * 7 and all(final[k] == v for k, v in before.items())
    assert f"{N_CLIPS * 7 - len(before)} rows computed, {len(before)} reused" in r.stdout
    assert _per_clip(out) == _per_clip(root / "ref")
