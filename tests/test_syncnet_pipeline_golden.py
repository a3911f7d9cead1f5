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

Tolerance reached (asserted): on the three tracks both find (same first and last frame)
|ΔLSE-D| and |ΔLSE-C| ≤ 5e-3 (≈ 3e-3 to 4e-3 measured), equal offsets; the audio is
bit-identical. Slow: about 5 minutes on 2 loaded cores (no shorter cut was made in time). The remaining difference is the
MPEG-4 re-encode: libavcodec 8.1.2 (PyAV) codes the P-frames differently from the FFmpeg 5.1
CLI (I-frames are identical; the CLI's output also changes with its thread count, one slice
per thread), so the JPEG frames differ by up to 17 grey levels, the random detector's boxes
move and the third track differs (reference 0–293, thgeval 68–288): the clip means differ by
about 0.02 (LSE-D) and 0.011 (LSE-C), which bounds what is asserted for them.
"""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from _s3fd_util import s3fd_state, save_s3fd  # noqa: E402
from test_syncnet_wav2lip_golden import WEIGHTS_SHA256, golden_state, values_sha256  # noqa: E402

from thgeval.metrics import resolve  # noqa: E402
from thgeval.metrics import syncnet as sn  # noqa: E402
from thgeval.metrics.lse import SAMPLES_PER_FRAME, score_arrays  # noqa: E402
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
TRACK_TOL = 5e-3
CLIP_TOL = 0.03  # one of four tracks differs (see above)

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


def test_syncnet_pipeline_matches_run_pipeline_and_run_syncnet(home, media, monkeypatch):
    monkeypatch.setenv("THGEVAL_HOME", str(home))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    s = Sample("m", "c", media / CLIP)
    params = resolve("lse_c@syncnet-pipeline").params()
    audio, shift = pipeline_audio(media / CLIP)
    segments, _ = sn.s3fd_segments(s, "pred", shift=shift, **params)
    from thgeval.weights import locate
    emb = sn.embedder_for(locate("syncnet_v2"))
    found = {}
    for bgr, fr in segments:
        a = audio[fr[0] * SAMPLES_PER_FRAME:(fr[-1] + 1) * SAMPLES_PER_FRAME]
        r = score_arrays(emb, bgr, a.astype(np.float64), 15)
        found[(int(fr[0]), int(fr[-1]))] = (r.lse_d, r.lse_c, r.offset)
    common = set(found) & set(TRACKS)
    assert len(found) == len(TRACKS) and len(common) == 3, found
    for key in common:
        d, c, off = TRACKS[key]
        assert found[key][2] == off
        assert abs(found[key][0] - d) <= TRACK_TOL and abs(found[key][1] - c) <= TRACK_TOL, (key, found[key])
    got = {n: resolve(f"{n}@syncnet-pipeline").metric.clip_fn(s, **params).value for n in ("lse_c", "lse_d")}
    assert abs(got["lse_d"] - np.mean([v[0] for v in TRACKS.values()])) <= CLIP_TOL
    assert abs(got["lse_c"] - np.mean([v[1] for v in TRACKS.values()])) <= CLIP_TOL
