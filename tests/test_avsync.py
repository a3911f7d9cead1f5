"""Weight-free sync offset (thgeval.metrics.avsync) on the shared real clips.

Audio shifted by k frames (k > 0: the audio advanced, so it leads the video by k: SyncNet's
convention gives +k). Measured 2026-11-25 over 11 GRID + 14 VoxCeleb2 clips × 9 shifts (225
cases), with dlib landmarks from ``_faces_util`` (detection every 2nd frame): the offset is
within ±1 of k in 72.9 % of cases (75.1 % with detection on every frame) — short of the
issue's 80 % goal; within ±1 of k plus the clip's own unshifted estimate in 89.3 % (92.0 %):
three VoxCeleb2 clips are found 2–3 frames off at every shift alike, which points at those
clips' own sync rather than at the shift. 68.9 % (73 %) of the wrong answers have confidence
below 3 (``CONFIDENT``). ``syncnet/example.avi`` gives +3, SyncNet's reference answer.
The thresholds below sit just under these measurements.
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.errors import MetricSkipped
from thgeval.metrics.avsync import CONFIDENT, av_sync, lag_correlation, peak_confidence

SHIFTS = (-12, -8, -4, -2, 0, 2, 4, 8, 12)


def shift_audio(audio: np.ndarray, k: int, fps: float = 25.0, sr: int = 16000) -> np.ndarray:
    """Advance (k > 0) or delay (k < 0) the audio by k video frames, keeping its length."""
    n = int(round(k * sr / fps))
    if n > 0:
        return np.concatenate([audio[n:], np.zeros(n, audio.dtype)])
    if n < 0:
        return np.concatenate([np.zeros(-n, audio.dtype), audio[:n]])
    return audio


def test_lag_correlation_sign_convention():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    v = np.roll(a, -3)  # v[i] = a[i + 3]: the lips show what is heard 3 frames later → audio lags
    c = lag_correlation(v, a)
    assert np.arange(-15, 16)[np.argmax(c)] == -3
    assert peak_confidence(c) > 10


def test_no_face_or_audio_is_skipped():
    lm = np.full((100, 68, 2), np.nan, np.float32)
    with pytest.raises(MetricSkipped, match="landmarks"):
        av_sync(lm, None, np.zeros(64000, np.float32), 25.0)


@pytest.fixture(scope="module")
def clips(media):
    from _faces_util import track_for

    from thgeval.io import load_clip

    out = {}
    for p in sorted((media / "grid").glob("*.mpg")) + sorted((media / "voxceleb2").glob("*.mp4")):
        clip = load_clip(p)
        out[p.name] = (track_for(p, clip.frames), clip.audio, clip.fps)
    return out


def test_example_avi_offset_is_3(media):
    from _faces_util import track_for

    from thgeval.io import load_clip

    clip = load_clip(media / "syncnet" / "example.avi")
    face = track_for(media / "syncnet" / "example.avi", clip.frames)
    r = av_sync(face.landmarks, face.valid, clip.audio, clip.fps)
    assert r.offset == 3
    assert r.confident


@pytest.mark.slow
def test_recovers_shifts_on_grid_and_voxceleb2(clips):
    right, consistent, conf_wrong = [], [], []
    for name, (face, audio, fps) in clips.items():
        base = av_sync(face.landmarks, face.valid, audio, fps).offset
        for k in SHIFTS:
            r = av_sync(face.landmarks, face.valid, shift_audio(audio, k, fps), fps)
            ok = abs(r.offset - k) <= 1
            right.append(ok)
            consistent.append(abs(r.offset - base - k) <= 1)
            if not ok:
                conf_wrong.append(r.confidence)
    right, consistent = np.mean(right), np.mean(consistent)
    low = np.mean(np.asarray(conf_wrong) < CONFIDENT) if conf_wrong else 1.0
    assert len(clips) == 25
    print(f"right {right:.3f} consistent {consistent:.3f} wrong-and-uncertain {low:.3f}")
    assert right >= 0.72, right  # measured 0.729; the goal is 0.80 (see the module docstring)
    assert consistent >= 0.88, consistent
    assert low >= 0.65, low
