"""`thgeval lipsync`: the figure and the side-by-side video, weight-free and with SyncNet."""

from __future__ import annotations

import shutil

import numpy as np
import pytest


def _check(out, n_frames):
    from thgeval.io import load_clip

    assert out.png.stat().st_size > 20_000 and out.svg.read_text().lstrip().startswith("<?xml")
    import matplotlib.image

    img = matplotlib.image.imread(out.png)
    assert img.shape[0] > 1000 and img.shape[1] > 1000  # five panels
    clip = load_clip(out.mp4)
    assert len(clip) == n_frames and clip.audio is not None and clip.audio.size > 16000
    assert clip.frames.shape[2] > clip.frames.shape[1]  # GT | pred side by side


def test_lipsync_weight_free(media, tmp_path, monkeypatch):
    from _faces_util import track_for

    from thgeval.report.lipsync import lipsync

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    out = lipsync(media / "grid" / "id2_swwp2s.mpg", tmp_path / "o", gt=media / "grid" / "pwij3p.mpg",
                  face_fn=track_for)
    assert out.source == "weight-free" and -15 <= out.offset <= 15
    _check(out, 75)


def test_lipsync_syncnet_cli(media, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from _faces_util import patch_faces

    from thgeval.cli import main
    from thgeval.nets.syncnet import random_state_dict, save_state_dict

    patch_faces(monkeypatch)
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    save_state_dict(random_state_dict(1), tmp_path / "home" / "weights" / "syncnet_v2.model")
    assert main(["lipsync", str(media / "grid" / "bbaf2n.mpg"), "--gt", str(media / "grid" / "bbaf2n.mpg"),
                 "-o", str(tmp_path / "o")]) == 0
    from thgeval.report.lipsync import LipsyncOutputs

    stem = tmp_path / "o" / "bbaf2n_lipsync"
    _check(LipsyncOutputs(stem.with_suffix(".png"), stem.with_suffix(".svg"), stem.with_suffix(".mp4"), 0, 0, ""), 75)
    assert "SyncNet" in stem.with_suffix(".svg").read_text()
