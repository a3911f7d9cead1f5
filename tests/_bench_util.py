"""Run a dataset adapter's report through ``thgeval bench`` (the datasets issue's "feeds bench")."""

from __future__ import annotations

import json
from pathlib import Path


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))


def feeds_bench(tmp_path: Path, report, adapter: str, split: str, **options):
    """A method whose clips are the split's own GT clips, evaluated by a benchmark file that
    reads the tree with ``adapter``; checks every record gets its row and every problem of
    ``report`` reaches the benchmark's report. Returns the dataset's outcome."""
    from thgeval.run.bench import load_config, run_bench

    work = tmp_path.with_name(tmp_path.name + "_bench")  # outside the dataset root it scans
    gen = work / "gen"
    for r in report.records:
        dst = gen / f"{r.id}{r.video.suffix}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            dst.symlink_to(r.video)
    probe = bool(options.pop("probe", False))
    cfg = work / "bench.toml"
    cfg.write_text("\n".join([
        f"out = {_toml(work / 'out')}", 'metrics = ["psnr"]', "",
        "[[datasets]]", f"name = {_toml(adapter)}", f"adapter = {_toml(adapter)}", f"root = {_toml(report.root)}",
        f"split = {_toml(split)}", f"probe = {_toml(probe)}", f"options = {_toml(options)}",
        f"methods = {{ gen = {_toml(gen)} }}", ""]), encoding="utf-8")
    (oc,) = run_bench(load_config(cfg), backend="inline")
    assert not oc.error, oc.error
    rows = [r for r in oc.result.rows if r.method == "gen" and r.metric == "psnr"]
    assert sorted(r.clip for r in rows) == sorted(r.id for r in report.records)
    assert all(r.status == "ok" for r in rows), [(r.clip, r.reason) for r in rows if r.status != "ok"]
    assert {str(p) for p in report.problems} <= set(oc.problems), set(map(str, report.problems)) - set(oc.problems)
    md = (work / "out" / "bench.md").read_text()
    assert f"## {adapter}" in md and "| gen |" in md
    return oc
