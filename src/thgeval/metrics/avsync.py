"""Weight-free audio-visual sync: mouth motion from landmarks against the audio, over lags.

In the spirit of FaceSync (Slaney & Covell 2000): measure how well the mouth's motion
follows the sound at each candidate offset, take the best. Needs no network weights:
68-point landmarks (any backend in dlib's convention) and the audio track.

Features, one value per video frame:

- visual: inner-lip opening (mean of the 61–67, 62–66, 63–65 gaps) and outer-lip height
  (51–57), divided by the inter-ocular distance (scale-free), gaps interpolated over frames
  without a face, and their frame-to-frame velocity (``np.gradient``);
- audio: log energy of 100–4000 Hz and of 300–3000 Hz in a Hann-windowed 2-frame window
  centred on each video frame's centre, and their velocity.

For each offset ``o`` in −15…15 frames, the Pearson correlation between the visual velocity
at frame ``i`` and the audio velocity at frame ``i − o`` over the overlapping frames, for the
four (visual, audio) pairs; each pair's curve is standardised over the offsets and the four
are summed (the sync curve). The offset is the curve's argmax, in SyncNet's convention:
**positive = the audio leads the video** (the lips at frame ``i`` match the sound of frame
``i − o``), so delaying a clip's audio by ``k`` frames moves the offset by ``−k``.

Confidence: the curve's peak above its median, in units of the curve's robust spread
(1.4826 × median absolute deviation) over offsets at least 3 frames from the peak. Below
:data:`CONFIDENT` the offset is reported as uncertain (a note on the row; the value stays).

References
----------
M. Slaney and M. Covell, "FaceSync: A linear operator for measuring synchronization of video
facial images and audio tracks", NeurIPS 2000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import MetricSkipped

MAX_LAG = 15
CONFIDENT = 3.0  # sync_conf below this: the curve has no clear peak (see the module docstring)
BANDS = ((100.0, 4000.0), (300.0, 3000.0))


@dataclass
class AVSync:
    """The weight-free result of one clip: ``curve`` over ``offsets`` (−max_lag…max_lag)."""

    offset: int
    confidence: float
    curve: np.ndarray
    offsets: np.ndarray
    mouth_open: np.ndarray  # (T,) inner-lip opening / inter-ocular distance
    envelope: np.ndarray  # (T,) log energy 100–4000 Hz per video frame
    frame_agreement: np.ndarray  # (T,) per-frame product of the standardised velocities at the offset
    notes: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


def _interp_invalid(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    t = np.arange(len(x))
    return np.interp(t, t[ok], x[ok])


def mouth_features(landmarks: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """(T, 2) inner-lip opening and outer-lip height per frame, in inter-ocular distances.

    ``landmarks`` (T, 68, 2) in dlib's 68-point order (NaN where no face); frames without a
    face are linearly interpolated; raises :class:`MetricSkipped` with fewer than 2 faces.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    ok = np.all(np.isfinite(lm[:, 36:68]), axis=(1, 2))
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    if ok.sum() < 2:
        raise MetricSkipped("fewer than 2 frames with face landmarks: no mouth motion to compare")
    eyes = np.linalg.norm(lm[:, 36:42].mean(1) - lm[:, 42:48].mean(1), axis=1)
    scale = float(np.median(eyes[ok]))
    if not scale > 0:
        raise MetricSkipped("degenerate landmarks (zero inter-ocular distance)")
    gap = lambda a, b: np.linalg.norm(lm[:, a] - lm[:, b], axis=1)  # noqa: E731
    inner = (gap(61, 67) + gap(62, 66) + gap(63, 65)) / 3 / scale
    outer = gap(51, 57) / scale
    return np.stack([_interp_invalid(inner, ok), _interp_invalid(outer, ok)], axis=1)


def audio_envelopes(audio: np.ndarray, n_frames: int, fps: float, sr: int = 16000,
                    bands=BANDS) -> np.ndarray:
    """(n_frames, len(bands)) log band energies in a 2-frame Hann window centred on each frame."""
    a = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = sr / fps
    win = int(round(2 * hop))
    centres = (np.arange(n_frames) + 0.5) * hop
    starts = np.round(centres - win / 2).astype(np.int64)
    pad = win
    padded = np.concatenate([np.zeros(pad), a, np.zeros(pad + win)])
    idx = (starts + pad)[:, None] + np.arange(win)[None, :]
    frames = padded[idx] * np.hanning(win)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / sr)
    out = [np.log(spec[:, (freqs >= lo) & (freqs < hi)].sum(1) + 1e-3) for lo, hi in bands]
    return np.stack(out, axis=1)


def _z(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 0 else np.zeros_like(x)


def lag_correlation(v: np.ndarray, a: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """Pearson correlation of ``v[i]`` with ``a[i − o]`` for ``o = −max_lag … max_lag``."""
    t = min(len(v), len(a))
    out = np.zeros(2 * max_lag + 1)
    for j, o in enumerate(range(-max_lag, max_lag + 1)):
        i0, i1 = max(0, o), min(t, t + o)
        if i1 - i0 >= 3:
            out[j] = np.mean(_z(v[i0:i1]) * _z(a[i0 - o:i1 - o]))
    return out


def peak_confidence(curve: np.ndarray, guard: int = 2) -> float:
    """(peak − median) / robust spread of the curve away from the peak (|offset − peak| > guard)."""
    k = int(np.argmax(curve))
    far = np.abs(np.arange(len(curve)) - k) > guard
    rest = curve[far] if far.sum() >= 3 else curve
    spread = 1.4826 * np.median(np.abs(rest - np.median(rest)))
    return float((curve[k] - np.median(curve)) / max(spread, 1e-9))


def av_sync(landmarks: np.ndarray, valid: np.ndarray | None, audio: np.ndarray, fps: float,
            sr: int = 16000, max_lag: int = MAX_LAG) -> AVSync:
    """Offset and confidence of one clip from its landmarks (native frames) and audio.

    ``max_lag`` is in video frames; the clip needs at least ``2·max_lag + 10`` frames.
    """
    feats = mouth_features(landmarks, valid)
    t = len(feats)
    if t < 2 * max_lag + 10:
        raise MetricSkipped(f"{t} frames: the weight-free sync search over ±{max_lag} frames needs {2 * max_lag + 10}")
    if audio is None or np.asarray(audio).size < sr * 0.5:
        raise MetricSkipped("no audio (or under 0.5 s): nothing to synchronise with")
    env = audio_envelopes(audio, t, fps, sr)
    dv = np.gradient(feats, axis=0)
    da = np.gradient(env, axis=0)
    curves = [lag_correlation(dv[:, i], da[:, j], max_lag) for i in range(dv.shape[1]) for j in range(da.shape[1])]
    curve = sum(_z(c) for c in curves) / len(curves)
    offsets = np.arange(-max_lag, max_lag + 1)
    k = int(np.argmax(curve))
    o = int(offsets[k])
    # per-frame agreement at the chosen offset (for plots): v[i] · a[i − o]
    agree = np.full(t, np.nan)
    i0, i1 = max(0, o), min(t, t + o)
    agree[i0:i1] = _z(dv[i0:i1, 0]) * _z(da[i0 - o:i1 - o, 0])
    notes = []
    audio_secs, video_secs = np.asarray(audio).size / sr, t / fps
    if abs(audio_secs - video_secs) > 0.2:
        notes.append(f"audio {audio_secs:.2f} s vs video {video_secs:.2f} s")
    conf = peak_confidence(curve)
    if conf < CONFIDENT:
        notes.append(f"uncertain: confidence {conf:.2f} < {CONFIDENT} (no clear peak over ±{max_lag} frames)")
    return AVSync(o, conf, curve, offsets, feats[:, 0], env[:, 0], agree, notes)
