"""Paper tables and paired statistics: the LaTeX leaderboard and ``thgeval compare``."""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.metrics import resolve
from thgeval.report.compare import paired_test
from thgeval.report.latex import latex_table, tex_escape
from thgeval.report.leaderboard import build
from thgeval.run.store import Row


def _rows(values: dict[str, list[float]], metric="psnr", variant="skimage"):
    return [Row(m, f"c{i}", metric, variant, "1", "k", v, "ok", n_frames=10)
            for m, vs in values.items() for i, v in enumerate(vs)]


def test_latex_table_bold_best_real_first_escaped():
    refs = [resolve("psnr"), resolve("lmd_mouth")]
    rows = (_rows({"real": [30, 31], "my_method": [25.0, 26.0], "other": [27.0, 28.0]})
            + _rows({"my_method": [1.0, 1.2], "other": [2.0, 2.2]}, "lmd_mouth", "canonical"))
    board = build(rows, refs, ["real", "my_method", "other"])
    tex = latex_table(board)
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex and r"\begin{tabular}{lcc}" in tex
    assert r"PSNR $\uparrow$" in tex and r"LMD (mouth) $\downarrow$" in tex and r"\scriptsize skimage" in tex
    lines = [l for l in tex.splitlines() if l.endswith(r"\\")]
    assert lines[2].startswith(r"\textit{Real}")  # after the two header lines
    mine = next(l for l in lines if l.startswith(r"my\_method"))
    other = next(l for l in lines if l.startswith("other"))
    assert r"\textbf{1.1000" in mine and r"\textbf" not in other.split("&")[2]  # lower LMD wins
    assert r"\textbf{27.50" in other and r"\textbf" not in mine.split("&")[1]  # higher PSNR wins; real excluded
    assert tex_escape("a_b%c$") == r"a\_b\%c\$"


def test_paired_test_exact_and_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    a = rng.normal(0.3, 1, 12)
    b = rng.normal(0, 1, 12)
    mean, lo, hi, p, test = paired_test(a, b)
    assert "exact over 4096" in test and lo <= mean <= hi
    ref = stats.permutation_test((a, b), lambda x, y: np.mean(x - y), permutation_type="samples",
                                 alternative="two-sided", n_resamples=np.inf)
    assert p == pytest.approx(ref.pvalue, abs=1e-12)
    # all ten clips favour A by the same amount: only all-+ and all-− are as extreme
    mean, lo, hi, p, _ = paired_test(np.arange(10) + 1.0, np.arange(10.0))
    assert mean == 1.0 and p == pytest.approx(2 / 1024)
    # a ↓ metric: lower is better, so the orientation flips
    mean, *_ = paired_test(np.arange(10.0), np.arange(10) + 1.0, higher_is_better=False)
    assert mean == 1.0


def test_paired_test_large_n_is_monte_carlo_and_never_zero():
    a = np.linspace(1, 2, 40) + 5
    _, _, _, p, test = paired_test(a, a - 5, n_perm=2000)
    assert "2000 random" in test and p == pytest.approx(1 / 2001)


def test_compare_cli(tmp_path, capsys):
    from thgeval.cli import main

    (tmp_path / "per_clip.csv").write_text(
        "method,clip,metric,variant,value,status,reason,notes,n_frames\n"
        + "".join(f"a,c{i},ssim,skimage-gaussian,{0.9 + i / 100},ok,,,10\n" for i in range(8))
        + "".join(f"b,c{i},ssim,skimage-gaussian,{0.8 + i / 100},ok,,,10\n" for i in range(8))
        + "b,c9,ssim,skimage-gaussian,0.5,ok,,,10\n")
    assert main(["compare", str(tmp_path), "a", "b", "--metric", "ssim"]) == 0
    out = capsys.readouterr().out
    assert "a better by 0.1 " in out and "over 8 clips" in out and "p = 0.00781" in out and "won 8–0" in out
    assert main(["compare", str(tmp_path), "a", "zz", "--metric", "ssim"]) == 2
