"""``thgeval bench``: the benchmark file, datasets × methods on the shared clips, the same
tables from every backend, a manifest that leaves its folder refused, resume."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

from thgeval.errors import ConfigError
from thgeval.run.bench import load_config, run_bench


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, match", [
    ("out = 'x'\n", "at least one \\[\\[datasets\\]\\]"),
    ("outt = 'x'\n[[datasets]]\nname='a'\ngt='g'\nmethods={m='p'}\n", "unknown key\\(s\\) outt"),
    ("[[datasets]]\nname='a'\ngt='g'\nmanifest='m.csv'\nmethods={m='p'}\n", "exactly one of adapter, gt, manifest"),
    ("[[datasets]]\nname='a'\ngt='g'\n", "needs methods"),
    ("[[datasets]]\nname='a'\nadapter='grid'\nmethods={m='p'}\n", "give its root"),
    ("[[datasets]]\nname='a'\ngt='g'\nmethods={m='p'}\n[[datasets]]\nname='a'\ngt='h'\nmethods={m='q'}\n", "unique"),
    ("[[datasets]\n", "not valid TOML"),
])
def test_config_errors_name_the_key(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_config(_write(tmp_path / "b.toml", text))


def test_paths_are_relative_to_the_file(tmp_path):
    cfg = load_config(_write(tmp_path / "sub" / "b.toml",
                             "out='res'\nmetrics='psnr,ssim'\n[[datasets]]\nname='a'\ngt='../gt'\nmethods={m='p'}\n"))
    assert cfg.out == tmp_path / "sub" / "res" and cfg.metrics == ["psnr", "ssim"]
    assert cfg.datasets[0].gt == tmp_path / "sub" / "../gt" and cfg.datasets[0].methods["m"] == tmp_path / "sub" / "p"


def test_a_manifest_leaving_its_folder_is_refused(tmp_path):
    _write(tmp_path / "data" / "pairs.csv", "method,pred,gt\nm,../../etc/x.mp4,g.mp4\n")
    cfg = load_config(_write(tmp_path / "b.toml", "[[datasets]]\nname='a'\nmanifest='data/pairs.csv'\nmethods={m='p'}\n"))
    (oc,) = run_bench(cfg, backend="inline")
    assert "leaves the manifest's folder" in oc.error
    assert "Not evaluated" in (tmp_path / "bench-out" / "bench.md").read_text()


@pytest.fixture(scope="module")
def bench_tree(media, tmp_path_factory):
    """Two datasets (GRID, VoxCeleb2-style) × three generated variants, from the shared clips."""
    from thgeval.io import load_clip, write_clip

    root = tmp_path_factory.mktemp("bench")
    sets = {"grid": [media / "grid" / f for f in ("bbaf2n.mpg", "lbax4n.mpg")],
            "vox": [media / "voxceleb2" / f for f in ("00002.mp4", "00104.mp4")]}
    for ds, clips in sets.items():
        for src in clips:
            (root / ds / "gt").mkdir(parents=True, exist_ok=True)
            os.symlink(src, root / ds / "gt" / src.name)
            c = load_clip(src)
            n = min(len(c.frames), 60)
            frames = c.frames[:n]
            variants = {"copy": frames, "blur": np.stack([_blur(f) for f in frames]),
                        "noise": np.clip(frames.astype(np.int16) + np.random.default_rng(0).integers(-20, 21, frames.shape),
                                         0, 255).astype(np.uint8)}
            for m, v in variants.items():
                write_clip(root / ds / m / f"{src.stem}.mp4", v, c.fps, crf=23)
    text = ["out = 'OUT'", "metrics = ['psnr', 'ssim', 'cpbd']", ""]
    for ds in sets:
        text += ["[[datasets]]", f"name = '{ds}'", f"gt = '{ds}/gt'",
                 "methods = { " + ", ".join(f"{m} = '{ds}/{m}'" for m in ("copy", "blur", "noise")) + " }", ""]
    return root, "\n".join(text)


def _blur(f):
    import cv2

    return cv2.GaussianBlur(f, (0, 0), 2.0)


def _table(out):
    with open(out / "per_clip.csv", newline="") as f:
        return sorted((r["method"], r["clip"], r["metric"], r["variant"], r["status"], r["value"]) for r in csv.DictReader(f))


@pytest.mark.media
def test_bench_two_datasets_same_tables_on_every_backend(bench_tree):
    root, text = bench_tree
    tables = {}
    for backend in ("inline", "local", "ray"):
        cfg = load_config(_write(root / f"{backend}.toml", text.replace("'OUT'", f"'out_{backend}'")))
        outcomes = run_bench(cfg, backend=backend)
        assert [oc.name for oc in outcomes] == ["grid", "vox"] and not any(oc.error for oc in outcomes)
        tables[backend] = {oc.name: _table(oc.out) for oc in outcomes}
        for oc in outcomes:
            assert oc.result.computed > 0 and not oc.result.failed
            board = json.loads((oc.out / "leaderboard.json").read_text())
            assert board  # per-dataset leaderboard written
        md = (root / f"out_{backend}" / "bench.md").read_text()
        assert "## grid" in md and "## vox" in md and "| noise |" in md and "| real |" in md
    assert tables["inline"] == tables["local"] == tables["ray"]
    # the blurred method is less sharp than the copy on both datasets (the table means something)
    for ds in ("grid", "vox"):
        vals = {}
        for m, clip, metric, variant, status, value in tables["inline"][ds]:
            if metric == "cpbd":
                vals.setdefault(m, []).append(float(value))
        assert np.mean(vals["blur"]) < np.mean(vals["copy"])
    # a second run reuses every row
    cfg = load_config(root / "inline.toml")
    again = run_bench(cfg, backend="inline")
    assert all(oc.result.computed == 0 and oc.result.reused > 0 for oc in again)


@pytest.mark.media
def test_cli_bench(bench_tree, capsys):
    from thgeval.cli import main

    root, text = bench_tree
    cfg = _write(root / "cli.toml", text.replace("'OUT'", "'out_cli'"))
    assert main(["bench", str(cfg), "--backend", "inline", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "grid:" in out and "vox:" in out and "bench.md" in out
    assert main(["bench", str(root / "nope.toml")]) == 2
