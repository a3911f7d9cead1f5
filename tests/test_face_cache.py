"""Face-track cache: keyed by content and settings, no detection on a hit, safe across processes."""

from __future__ import annotations

import multiprocessing
import shutil

import numpy as np
import pytest

from thgeval.demo import portrait_clip
from thgeval.face import FaceSettings, analyze_clip, cache as face_cache
from thgeval.face import detect
from thgeval.face.batch import analyze_clips
from thgeval.io import load_clip, write_clip


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("clips") / "face.mp4"
    write_clip(p, portrait_clip(20), 25)
    return p


def _no_detection(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("face detection ran on a cache hit")

    monkeypatch.setattr(detect, "run_detector", boom)


def test_second_run_does_no_detection(clip_path, tmp_path, monkeypatch):
    first = analyze_clip(clip_path, cache_dir=tmp_path)
    assert first.valid.all() and first.fps == 25
    files = list(tmp_path.rglob("*.npz"))
    assert len(files) == 1 and face_cache.file_sha256(clip_path) in files[0].name
    _no_detection(monkeypatch)
    second = analyze_clip(clip_path, cache_dir=tmp_path)
    np.testing.assert_array_equal(second.landmarks, first.landmarks)
    # frames handed in (already decoded) hit the same entry
    frames = load_clip(clip_path, audio=False).frames
    third = analyze_clip(clip_path, frames=frames, cache_dir=tmp_path)
    np.testing.assert_array_equal(third.boxes, first.boxes)


def test_key_has_content_and_settings(clip_path, tmp_path):
    analyze_clip(clip_path, cache_dir=tmp_path)
    analyze_clip(clip_path, cache_dir=tmp_path, settings=FaceSettings(detect_every=1))
    assert len(list(tmp_path.rglob("*.npz"))) == 2  # other settings: another entry
    other = tmp_path / "other.mp4"
    write_clip(other, portrait_clip(20)[::-1].copy(), 25)  # other content, same analysis
    analyze_clip(other, cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.npz"))) == 3


def test_default_dir_is_under_thgeval_home(clip_path, tmp_path, monkeypatch):
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    analyze_clip(clip_path)
    assert list((tmp_path / "home" / "cache" / "faces").rglob("*.npz"))


def test_damaged_entry_is_recomputed(clip_path, tmp_path):
    t = analyze_clip(clip_path, cache_dir=tmp_path)
    (entry,) = tmp_path.rglob("*.npz")
    entry.write_bytes(b"not an npz")
    again = analyze_clip(clip_path, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.landmarks, t.landmarks)
    assert len(entry.read_bytes()) > 100  # rewritten


def test_unwritable_cache_is_a_note(clip_path, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the cache folder should be
    t = analyze_clip(clip_path, cache_dir=blocker)
    assert t.valid.all() and any("not cached" in n for n in t.notes)


def _worker(args):
    path, cache_dir = args
    t = analyze_clip(path, cache_dir=cache_dir)
    return t.landmarks


def test_two_processes_analysing_one_clip_at_once(clip_path, tmp_path):
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(2) as pool:
        a, b = pool.map(_worker, [(clip_path, tmp_path)] * 2)
    np.testing.assert_array_equal(a, b)
    files = list(tmp_path.rglob("*"))
    assert len([f for f in files if f.suffix == ".npz"]) == 1
    assert not [f for f in files if f.name.endswith(".tmp")]  # no temporary file left behind
    np.testing.assert_array_equal(analyze_clip(clip_path, cache_dir=tmp_path).landmarks, a)


def test_analyze_clips_in_a_pool(clip_path, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    copy = tmp_path / "copy.mp4"
    shutil.copy(clip_path, copy)
    out = analyze_clips([clip_path, bad, copy], cache_dir=tmp_path / "c", workers=2)
    assert out[0].valid.all() and isinstance(out[1], str) and "empty" in out[1]
    np.testing.assert_array_equal(out[0].landmarks, out[2].landmarks)
    assert len(list((tmp_path / "c").rglob("*.npz"))) == 1  # same content, one entry
