"""Golden values of ``lse_c`` / ``lse_d`` / ``av_offset`` ``@latentsync`` from
bytedance/LatentSync's own ``eval/eval_sync_conf.py`` ``syncnet_eval``, run outside the project
with random weights on ``shared/media/syncnet/example.avi`` (full clip, 317 frames).

Provenance (run 2026-12-06 in /tmp/golden-ls, CPU, 2 cores, Python 3.11, torch 2.14.1,
numpy 2.4.6, scipy 1.17.1, opencv-python-headless 5.0.0.93, python_speech_features 0.6,
scenedetect 0.5.1 (syncnet_python's pin; LatentSync's requirements leave it open but
``syncnet_detect.py`` uses the 0.5 ``VideoManager`` API), Debian's ``ffmpeg``
5.1.9-0+deb12u1 (libx264 core 164 r3095, native AAC) for every ``ffmpeg`` command):

- reference: bytedance/LatentSync commit a229c3948406bc2cf6eaf4873e662e70c6a04746,
  ``eval/eval_sync_conf.py`` (``syncnet_eval``), ``eval/syncnet_detect.py``,
  ``eval/syncnet/syncnet_eval.py``, ``eval/syncnet/syncnet.py``, ``eval/detectors/s3fd/*``.
- weights: the same files as the ``@syncnet-pipeline`` golden
  (``test_syncnet_pipeline_golden.py``): SyncNet = :func:`test_syncnet_wav2lip_golden.golden_state`
  as ``checkpoints/auxiliary/syncnet_v2.model`` (file sha256 ``bf675ae5…``), S3FD =
  :func:`_s3fd_util.s3fd_state` (values sha256 ``S3FD_SHA256`` there) as
  ``checkpoints/auxiliary/sfd_face.pth`` (file sha256 ``8b76d015…``).
- command: ``PYTHONPATH=/tmp/refpkgs:/tmp/golden-ls python record.py
  /work/shared/media/syncnet/example.avi``, where ``record.py`` does what
  ``eval_sync_conf.py``'s ``main`` does for ``--video_path`` (``SyncNetEval(device='cpu')``,
  ``loadParameters``, ``SyncNetDetector(device='cpu', detect_results_dir='detect_results')``,
  ``syncnet_eval(..., temp_dir='temp')``) and wraps, without changing them,
  ``SyncNetEval.evaluate`` (its ``av_offset, min_dist, conf`` per crop),
  ``SyncNetDetector.track_face`` (track frames) and ``scene_detect``.
- adaptations, and only this one: ``latentsync/utils/util.py`` replaced by its two names that
  ``eval/`` imports (``red_text``, ``check_model_and_download``), copied verbatim, because the
  full module imports ``decord`` (not installed). Device is CPU by ``main``'s own rule. The
  scenedetect 0.5.1 copy carries the syncnet_python golden's OpenCV-5 fix (``list(cv2.split)``).
- what the reference did: 1 scene (0–317); 6 S3FD tracks (random detector), frames 0–316,
  0–316, 0–197, 13–316, 68–157, 180–263 (crops ``00000``–``00005``); per video
  ``conf = fmean`` = 0.16802175839742026, ``av_offset = int(fmean([15, 15, -15, 15, -15, -15]))``
  = 0.

Tolerance reached (asserted): on a track both find with the same frames (0–316, the
reference's 00000/00001) equal offset and |ΔLSE-D| + |ΔLSE-C| ≤ 5e-3 (3.0e-3 measured against
00000); clip LSE-C (LatentSync's video conf) within 0.05 (0.022 measured in the first run). The
track sets otherwise differ (and differed between two thgeval runs, see ``TRACK_TOL``). Slow
(about 2–3 minutes on 2 loaded cores).
What is reproduced exactly: the libx264 re-encode (decoded ``video.mp4`` pictures identical,
3 frame threads) and the frame count (no shift). Not exactly: FFmpeg's native AAC encoder of
PyAV's libavcodec differs from FFmpeg 5.1's after 41 packets (``audio.wav`` within 148 levels),
and the JPEG frame dump of ``video.mp4`` (libswscale's yuv→yuvj conversion differs by 1 level
from the 5.1 CLI's, up to 10 levels after JPEG), so the random detector's boxes move.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from test_syncnet_pipeline_golden import CLIP, home  # noqa: E402,F401  (same weights fixture)

from thgeval.metrics import resolve  # noqa: E402
from thgeval.metrics import syncnet as sn  # noqa: E402
from thgeval.metrics.lse import SAMPLES_PER_FRAME, score_arrays  # noqa: E402
from thgeval.metrics.sample import Sample  # noqa: E402
from thgeval.metrics.sync_pipeline import aac_roundtrip, pipeline_audio  # noqa: E402

TRACKS = [  # crop 0000k: (first, last frame, av_offset, min_dist, conf) of syncnet_eval.py's evaluate
    (0, 316, 15, 4.214695930480957, 0.07590389251708984),
    (0, 316, 15, 4.117203712463379, 0.0822601318359375),
    (0, 197, -15, 3.8494720458984375, 0.13103914260864258),
    (13, 316, 15, 4.009271144866943, 0.10284852981567383),
    (68, 157, -15, 3.5508615970611572, 0.25391268730163574),
    (180, 263, -15, 3.7747409343719482, 0.362166166305542),
]
VIDEO_CONF, VIDEO_OFFSET = 0.16802175839742026, 0
TRACK_TOL = 5e-3  # a 0–316 track both find: |ΔLSE-D| + |ΔLSE-C| 3.0e-3 / 3.6e-3 measured in two runs
CLIP_TOL = 0.05  # video conf: thgeval 0.1459 vs 0.1680 in the first run (5 of 6 tracks differ, see above)
# NOTE: two thgeval runs of this test gave different track sets (6 tracks, then 5: 0–316 ×3,
# 0–286, 167–316): something in thgeval's path (x264 frame threads, S3FD on CPU threads?) is
# not deterministic on this machine; not investigated in time. What is asserted held in three runs;
# the clip offset is not compared with the tracks of a separate run (the int(fmean) rule is unit-tested
# in test_syncnet_pipeline.py).
# thgeval's tracks on this clip (2026-12-06): 0–316 (+15), 0–209, 0–264 (−15), 0–187, 167–316,
# 232–316 (+15); offset int(fmean) = 5 against the reference's 0: with offsets of ±15 on random
# weights the mean is decided by which tracks exist, so the clip offset is not asserted.

pytestmark = pytest.mark.slow


def test_latentsync_audio_frames_and_offset_rule(media):
    audio, shift = pipeline_audio(media / CLIP, "h264-mp4")
    assert shift == 0 and len(audio) == 199 * 1024  # 200 AAC packets less the 1024-sample priming
    assert len(aac_roundtrip(audio[:640 * 60])) == 38 * 1024  # whole packets less the priming, as evaluate reads
    assert int(np.mean([t[2] for t in TRACKS])) == VIDEO_OFFSET


@pytest.mark.skipif(os.environ.get("THGEVAL_SLOW_GOLDENS") != "1",
                    reason="opt-in (THGEVAL_SLOW_GOLDENS=1): 2–5 min, and with random S3FD weights whose scores sit "
                           "near the 0.9 threshold the set of tracks thgeval finds varied between two runs here "
                           "(6, then 5), so it is run by hand, not in CI")
def test_latentsync_matches_eval_sync_conf(home, media, monkeypatch):  # noqa: F811
    monkeypatch.setenv("THGEVAL_HOME", str(home))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    s = Sample("m", "c", media / CLIP)
    params = resolve("lse_c@latentsync").params()
    audio, shift = pipeline_audio(media / CLIP, params["reencode"])
    segments, _ = sn.s3fd_segments(s, "pred", shift=shift, **params)
    from thgeval.weights import locate
    emb = sn.embedder_for(locate("syncnet_v2"))
    found = []
    for bgr, fr in segments:
        a = aac_roundtrip(audio[fr[0] * SAMPLES_PER_FRAME:(fr[-1] + 1) * SAMPLES_PER_FRAME])
        r = score_arrays(emb, bgr, a.astype(np.float64), 15)
        found.append((int(fr[0]), int(fr[-1]), int(r.offset), r.lse_d, r.lse_c))
    ref = [t for t in TRACKS if t[:2] == (0, 316)]  # the frames both sides find
    match = [t for t in found if t[:2] == (0, 316)]
    assert match, found
    best = min(abs(m[3] - r[3]) + abs(m[4] - r[4]) for m in match for r in ref if m[2] == r[2])
    assert best <= TRACK_TOL, (found, best)
    got = {n: resolve(f"{n}@latentsync").metric.clip_fn(s, **params).value for n in ("lse_c", "av_offset")}
    assert abs(got["lse_c"] - VIDEO_CONF) <= CLIP_TOL, got
