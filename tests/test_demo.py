"""`thgeval demo`: the known quality order must come out."""

from __future__ import annotations

from thgeval.cli import main
from thgeval.demo import KNOWN_ORDER, portrait


def test_portrait_ships_with_matplotlib():
    img = portrait()
    assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 256


def test_demo_ranks_variants_in_known_order(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "demo"), "--clips", "2", "--frames", "20"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "known order" in text
    for better, worse, _ in KNOWN_ORDER:
        assert better in text and worse in text
    assert (tmp_path / "demo" / "results" / "leaderboard.md").is_file()
