"""``lse_c`` / ``lse_d`` / ``av_offset`` ``@syncnet-pipeline`` and ``@latentsync``: the parts
of joonson/syncnet_python ``run_pipeline.py`` (commit 6efbb1c) that are checked here.

- the tracker: ``track_shot``'s greedy passes, including its skip of the box after each one
  taken from a frame (it removes from the list it iterates), gap, interpolation and size rule;
- the skips: clips with no track longer than ``min_track`` frames, absent S3FD weights;
- the variants are registered with their parameters;
- ``encoder="auto"``: the ffmpeg CLI where one is on PATH (and the row key's runtime part
  follows it), PyAV otherwise; PyAV's libx264 re-encode is repeatable; the front end's
  shortcuts (no PCM audio cut/mux/decode round trip) change no frame and no sample.

The end-to-end golden of ``run_pipeline.py`` + ``run_syncnet.py`` is in
``test_syncnet_pipeline_golden.py`` (slow).
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.errors import MetricSkipped
from thgeval.metrics import resolve
from thgeval.metrics.sync_pipeline import iou_tracks


def _box(x, y, s=120.0):
    return [x, y, x + s, y + s, 0.99]


def test_tracker_follows_overlapping_boxes_and_interpolates_gaps():
    dets = [[_box(10 + i, 20)] if i % 7 else [] for i in range(130)]  # a missed frame every 7
    (frames, boxes), = iou_tracks(dets, min_track=100)
    assert frames[0] == 1 and frames[-1] == 129 and len(frames) == 129
    np.testing.assert_allclose(boxes[:, 0], frames + 10.0)  # linear interpolation over the gaps


def test_tracker_rules_min_track_gap_and_face_size():
    assert iou_tracks([[_box(0, 0)] for _ in range(100)], min_track=100) == []  # needs > 100
    assert len(iou_tracks([[_box(0, 0)] for _ in range(101)], min_track=100)) == 1
    assert iou_tracks([[_box(0, 0, 90)] for _ in range(150)], min_track=100) == []  # faces ≤ 100 px
    gap = [[_box(0, 0)] for _ in range(60)] + [[] for _ in range(25)] + [[_box(0, 0)] for _ in range(60)]
    assert iou_tracks(gap, min_track=50, min_face=100) and len(iou_tracks(gap, min_track=50)) == 2
    ok = [[_box(0, 0)] for _ in range(60)] + [[] for _ in range(24)] + [[_box(0, 0)] for _ in range(60)]
    assert len(iou_tracks(ok, min_track=100)) == 1  # frame numbers 25 apart are bridged, 26 are not


def test_tracker_skips_the_box_after_each_taken_one_like_the_reference():
    # two identical boxes per frame: the reference's list mutation makes each pass take the
    # first box of the first frame, skip the second, then take one per later frame
    dets = [[_box(0, 0), _box(0, 0)] for _ in range(110)]
    tracks = iou_tracks(dets, min_track=100)
    assert [len(f) for f, _ in tracks] == [110, 110]


def test_variants_registered():
    for v, mt in (("syncnet-pipeline", 100), ("latentsync", 50)):
        for name in ("lse_c", "lse_d", "av_offset"):
            p = resolve(f"{name}@{v}").params()
            assert p["detector"] == "s3fd" and p["min_track"] == mt and p["min_face"] == 100
            assert p["det_scale"] == 0.25 and p["det_conf"] == 0.9 and p["crop_scale"] == 0.4


def test_short_clip_is_skipped_with_the_reason(media, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from _s3fd_util import s3fd_state, save_s3fd
    from thgeval.metrics.sample import Sample
    from thgeval.nets.syncnet import random_state_dict, save_state_dict

    save_s3fd(s3fd_state(), tmp_path / "weights" / "sfd_face.pth")
    save_state_dict(random_state_dict(seed=1), tmp_path / "weights" / "syncnet_v2.model")
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    ref = resolve("lse_c@syncnet-pipeline")
    with pytest.raises(MetricSkipped, match="min_track=100"):  # GRID: 75 frames, before any detection
        ref.metric.clip_fn(Sample("m", "c", media / "grid/pwij3p.mpg"), **ref.params())


def test_missing_s3fd_weights_skip(media, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from thgeval.metrics.sample import Sample
    from thgeval.nets.syncnet import random_state_dict, save_state_dict

    save_state_dict(random_state_dict(seed=1), tmp_path / "weights" / "syncnet_v2.model")
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    ref = resolve("lse_d@syncnet-pipeline")
    with pytest.raises(MetricSkipped, match="sfd_face|s3fd"):
        ref.metric.clip_fn(Sample("m", "c", media / "syncnet/example.avi"), **ref.params())


def test_latentsync_offset_is_int_of_the_mean_over_tracks():
    from thgeval.metrics.lse import SyncScores
    from thgeval.metrics.syncnet import _mean_over_tracks

    def r(off, n, d, c):
        z = np.zeros(n)
        return SyncScores(d, c, off, np.zeros(31), np.zeros((n, 31)), z, z)

    tracks = [r(15, 10, 4.0, 0.1), r(-15, 20, 3.0, 0.3), r(-15, 5, 3.5, 0.2)]
    assert _mean_over_tracks(tracks).offset == -15  # syncnet-pipeline: the longest track's
    out = _mean_over_tracks(tracks, "int-mean")  # LatentSync: int(fmean([15, -15, -15])) = int(-5.0)
    assert out.offset == -5 and out.lse_c == pytest.approx(0.2) and out.lse_d == pytest.approx(3.5)
    assert _mean_over_tracks([r(15, 9, 1, 1), r(-14, 9, 1, 1)], "int-mean").offset == 0  # int() truncates
    p = resolve("av_offset@latentsync").params()
    assert (p["reencode"], p["crop_file"], p["track_offset"], p["min_track"]) == \
        ("h264-mp4", "mp4v-mp4-aac", "int-mean", 50)


def test_encoder_auto_is_the_ffmpeg_cli_where_there_is_one(tmp_path, monkeypatch):
    from thgeval.metrics.sync_pipeline import resolve_encoder

    fake = tmp_path / "ffmpeg"  # an `ffmpeg` on PATH, as `ffmpeg -version` prints its first line
    fake.write_text("#!/bin/sh\necho 'ffmpeg version 9.9-test Copyright (c) 2000 the FFmpeg developers'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert resolve_encoder("auto") == {"encoder": "ffmpeg", "ffmpeg": "9.9-test", "exe": str(fake)}
    assert resolve_encoder("pyav")["encoder"] == "pyav"
    ref = resolve("lse_c@latentsync")
    assert ref.params()["encoder"] == "auto" and ref.runtime() == {"encoder": "ffmpeg", "ffmpeg": "9.9-test"}
    assert resolve("lse_c@thgeval").runtime() == {}  # the other variants resolve nothing at run time
    monkeypatch.setenv("PATH", str(tmp_path / "none"))  # no ffmpeg: PyAV, and the row key changes with it
    assert resolve_encoder("auto")["encoder"] == "pyav" and ref.runtime()["encoder"] == "pyav"
    with pytest.raises(FileNotFoundError):
        resolve_encoder("ffmpeg")
    with pytest.raises(ValueError):
        resolve_encoder("x264")


def test_pyav_x264_reencode_is_repeatable(media):
    # PyAV's libx264 gave other bits on a second encode in the same process (the track sets of
    # the latentsync variant varied between runs); the encode now runs in a fresh process
    from thgeval.metrics.sync_pipeline import pipeline_frames

    clip = media / "syncnet/example.avi"  # 3 of 5 in-process encodes of this clip differed before
    a = pipeline_frames(clip, reencode="h264-mp4")
    assert a.shape[0] == 317
    for _ in range(2):
        assert np.array_equal(a, pipeline_frames(clip, reencode="h264-mp4"))


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="no ffmpeg executable on PATH")
def test_ffmpeg_front_end_shortcuts_change_nothing(media):
    # the XVID crop's PCM audio cut + copy mux + decode gives back the WAV's samples, and the
    # JPEG dump of the crop before the mux equals the one after it: skipped when shortcuts=True
    from thgeval.metrics import sync_pipeline as sp

    exe = sp.ffmpeg_cli()[0]
    got = {}
    for shortcuts in (False, True):
        with sp.FfmpegFrontEnd(exe, media / "syncnet/example.avi", shortcuts=shortcuts) as fe:
            frames, scenes, audio = fe.prepare()
            # MP3 in .avi: 2 frames late; PySceneDetect reads 317 frames, one scene
            assert (len(frames), scenes, len(audio)) == (319, [(0, 317)], 355 * 576)
            got[shortcuts] = [fe.track(frames[a:b + 1, 20:200, 30:210], a, b) for a, b in ((0, 316), (169, 318))]
    for (fa, aa), (fb, ab) in zip(got[False], got[True]):
        assert np.array_equal(fa, fb) and np.array_equal(aa, ab)


def test_tracks_end_at_scene_cuts(monkeypatch):
    """A face found on every frame of two scenes gives one track per scene (none crosses the
    cut), frame numbers on the clip's timeline; scenes shorter than min_track are not tracked."""
    from thgeval.metrics import syncnet as sn
    from thgeval.metrics.sample import Sample

    seen = []

    class Det:
        def detect(self, bgr, conf_th, scale):
            seen.append(int(bgr[0, 0, 0]))
            return [[10.0, 10.0, 130.0, 130.0, 0.99]]

    monkeypatch.setattr(sn, "_s3fd", lambda *a: Det())
    monkeypatch.setattr("thgeval.weights.locate", lambda name: __file__)
    frames = np.zeros((260, 8, 8, 3), np.uint8)
    frames[:, 0, 0, 2] = np.arange(260) % 256  # frame number in the first pixel (channel 2 of RGB = B)
    notes: list = []
    kw = dict(min_track=100, max_gap=25, min_face=100, det_scale=0.25, det_conf=0.9)
    tracks = sn._s3fd_tracks(Sample("m", "c", __file__), frames, [(0, 120), (120, 150), (150, 260)], notes, **kw)
    assert [(int(fi[0]), int(fi[-1])) for fi, _ in tracks] == [(0, 119), (150, 259)]
    assert seen == [f % 256 for f in list(range(120)) + list(range(150, 260))]  # the short scene is not scanned
    assert "2 scene cut(s)" in notes[0]
    with pytest.raises(MetricSkipped, match="no scene of at least min_track=100"):
        sn._s3fd_tracks(Sample("m", "c", __file__), frames, [(0, 99), (99, 198)], [], **kw)
