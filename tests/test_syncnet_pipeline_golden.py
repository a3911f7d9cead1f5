"""Golden values of ``lse_c`` / ``lse_d`` / ``av_offset`` ``@syncnet-pipeline`` from
joonson/syncnet_python's own ``run_pipeline.py`` + ``run_syncnet.py``, run outside the project
with random weights on ``shared/media/syncnet/example.avi`` (full clip, 317 frames).

Provenance (run 2026-12-06, CPU, 2 cores, Python 3.11, torch 2.14.1, numpy 2.4.6, scipy 1.17.1,
opencv-python-headless 5.0.0.93, python_speech_features 0.6, scenedetect 0.5.1 (the
repository's pin), Debian's ``ffmpeg`` 5.1.9-0+deb12u1 for the seven ``ffmpeg`` commands):

- reference: joonson/syncnet_python commit 6efbb1c305c23f47a62b09cf4215a8ac45e97d49,
  ``run_pipeline.py``, ``run_syncnet.py``, ``SyncNetInstance.py``, ``SyncNetModel.py``,
  ``detectors/s3fd/*``.
- weights: SyncNet = the Wav2Lip golden's :func:`test_syncnet_wav2lip_golden.golden_state`
  (values sha256 ``dc283cef…``) as ``data/syncnet_v2.model``; S3FD =
  :func:`_s3fd_util.s3fd_state` (values sha256 :data:`S3FD_SHA256`) saved with
  :func:`_s3fd_util.save_s3fd` as ``detectors/s3fd/weights/sfd_face.pth``.
- commands: ``python run_pipeline.py --videofile example.avi --reference full --data_dir
  data/work`` then ``python run_syncnet.py --videofile example.avi --reference full --data_dir
  data/work --initial_model data/syncnet_v2.model``; per track ``Min dist`` / ``Confidence`` /
  ``AV offset`` printed, full precision recomputed from ``pywork/full/activesd.pckl`` as
  ``evaluate`` does (torch float32 mean, min, median).
- adaptations, and only these: ``.cuda()`` removed four times in ``SyncNetInstance.py``;
  ``S3FD(device='cuda')`` → ``'cpu'`` in ``run_pipeline.py``; ``np.int`` → ``int`` in
  ``detectors/s3fd/box_utils.py`` (removed from numpy); scenedetect 0.5.1's
  ``content_detector.py``: ``cv2.split(...)`` wrapped in ``list(...)`` twice (OpenCV 5 returns
  a tuple, which the detector assigns into).
- what the reference did on this clip: 1 scene; 4 S3FD tracks (random detector: boxes all
  over the frame), frames 0–316, 0–211, 0–293, 169–316; ``video.avi``'s audio is MP3
  (libmp3lame, 24 kb/s) starting 1105 samples late, its video frames after the first 2 frames
  late (the frame dump has 319 frames, PySceneDetect reads 317).

Tolerance reached (asserted), with an ``ffmpeg`` executable on PATH (``encoder="auto"`` runs
the reference's seven ``ffmpeg`` commands and writes the crops with ``cv2.VideoWriter``): the
same four tracks (first and last frames), equal offsets, per track |ΔLSE-D| and |ΔLSE-C| ≤ 1e-6
(2e-7 to 5.4e-7 measured 2026-12-06 with the same FFmpeg 5.1.9 CLI: the reference's float32
mean and median against thgeval's float64 scoring), the clip's LSE-D / LSE-C (mean over the
tracks) within 1e-6 of the means of the reference's and its offset (the longest track's)
equal. About 25 s on 2 cores. Without ``ffmpeg`` that test skips; the PyAV fallback
(``encoder="pyav"``) keeps its own looser check, :func:`test_pyav_fallback_is_close`: there
libavcodec 8.1.2 (PyAV) codes the MPEG-4 P-frames differently from the FFmpeg 5.1 CLI
(I-frames are identical; the CLI's output also changes with its thread count), so the JPEG
frames differ by up to 17 grey levels, the random detector's boxes move and the third track
differs (reference 0–293, thgeval 68–288): on the three tracks both find |Δ| ≤ 5e-3 (3e-3 to
4e-3 measured), the clip means within 0.03 (0.02 / 0.011 measured).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from _s3fd_util import s3fd_state, save_s3fd  # noqa: E402
from test_syncnet_wav2lip_golden import WEIGHTS_SHA256, golden_state, values_sha256  # noqa: E402

from thgeval.metrics import resolve  # noqa: E402
from thgeval.metrics.sample import Sample  # noqa: E402
from thgeval.metrics.sync_pipeline import pipeline_audio  # noqa: E402
from thgeval.nets.syncnet import SyncNet  # noqa: E402

S3FD_SHA256 = "ea54dd2a411e56fdf66523573857e6e9646abb3a3f1605aa19fb75d50e6b1c3f"
CLIP = "syncnet/example.avi"
TRACKS = {  # (first, last frame): (LSE-D, LSE-C, AV offset) of run_syncnet.py's evaluate
    (0, 316): (5.46220064163208, 0.1080169677734375, -15),
    (0, 211): (5.179812431335449, 0.16481447219848633, -15),
    (0, 293): (5.401658535003662, 0.10774755477905273, -15),
    (169, 316): (5.236841678619385, 0.2578577995300293, -15),
}
TRACK_TOL = 1e-6  # the reference's ffmpeg CLI (see above)
PYAV_TRACK_TOL = 5e-3
PYAV_CLIP_TOL = 0.03  # one of four tracks differs (see above)
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                  reason="no ffmpeg executable on PATH: encoder='auto' falls back to PyAV, whose lossy "
                                         "encoders are not bit-equal with the reference's ffmpeg CLI "
                                         "(see test_pyav_fallback_is_close)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    state = golden_state([(k, tuple(v.shape)) for k, v in SyncNet().state_dict().items()])
    assert values_sha256(state) == WEIGHTS_SHA256
    (home / "weights").mkdir()
    torch.save(state, home / "weights" / "syncnet_v2.model", _use_new_zipfile_serialization=False)
    s3fd = s3fd_state()
    assert values_sha256(s3fd) == S3FD_SHA256  # the reference ran on exactly these values
    save_s3fd(s3fd, home / "weights" / "sfd_face.pth")
    return home


def test_pipeline_audio_is_the_references_shifted_mp3(media):
    audio, shift = pipeline_audio(media / CLIP)
    assert shift == 2 and len(audio) == 355 * 576  # whole MP3 packets, as pyavi/audio.wav


def run_recording(s, variant, **override):
    """One clip pass of ``variant``: the clip values of lse_d, lse_c, av_offset (rows with notes
    and extra), and per track ``(first, last, offset, LSE-D, LSE-C)`` in the order scored, from
    the row's ``extra["tracks"]``."""
    params = {**resolve(f"lse_c@{variant}").params(), **override}
    got = {n: resolve(f"{n}@{variant}").metric.clip_fn(s, **params) for n in ("lse_d", "lse_c", "av_offset")}
    tracks = [(t["first"], t["last"], t["offset"], t["lse_d"], t["lse_c"]) for t in got["lse_c"].extra["tracks"]]
    return got, tracks


@needs_ffmpeg
def test_syncnet_pipeline_matches_run_pipeline_and_run_syncnet(home, media, monkeypatch):
    monkeypatch.setenv("THGEVAL_HOME", str(home))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    got, found = run_recording(Sample("m", "c", media / CLIP), "syncnet-pipeline")
    assert sorted(t[:2] for t in found) == sorted(TRACKS), found
    for first, last, off, d, c in found:
        rd, rc, roff = TRACKS[(first, last)]
        assert off == roff
        assert abs(d - rd) <= TRACK_TOL and abs(c - rc) <= TRACK_TOL, (first, last, d - rd, c - rc)
    assert abs(got["lse_d"].value - np.mean([v[0] for v in TRACKS.values()])) <= TRACK_TOL
    assert abs(got["lse_c"].value - np.mean([v[1] for v in TRACKS.values()])) <= TRACK_TOL
    assert got["av_offset"].value == TRACKS[(0, 316)][2]  # the longest track's
    fe = got["lse_c"].extra["front_end"]  # which made the lossy files, recorded with the row
    assert fe["encoder"] == "ffmpeg" and fe["ffmpeg"] and any(fe["ffmpeg"] in n for n in got["lse_c"].notes)


def test_pyav_fallback_is_close(home, media, monkeypatch):
    monkeypatch.setenv("THGEVAL_HOME", str(home))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    got, found = run_recording(Sample("m", "c", media / CLIP), "syncnet-pipeline", encoder="pyav")
    assert got["lse_c"].extra["front_end"]["encoder"] == "pyav"
    common = [t for t in found if t[:2] in TRACKS]
    assert len(found) == len(TRACKS) and len(common) == 3, found
    for first, last, off, d, c in common:
        rd, rc, roff = TRACKS[(first, last)]
        assert off == roff
        assert abs(d - rd) <= PYAV_TRACK_TOL and abs(c - rc) <= PYAV_TRACK_TOL, (first, last, d, c)
    assert abs(got["lse_d"].value - np.mean([v[0] for v in TRACKS.values()])) <= PYAV_CLIP_TOL
    assert abs(got["lse_c"].value - np.mean([v[1] for v in TRACKS.values()])) <= PYAV_CLIP_TOL
