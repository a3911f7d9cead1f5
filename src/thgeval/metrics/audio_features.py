"""Audio features for lip-sync metrics: the SyncNet MFCC, log-mel energies, envelopes.

Pure NumPy/SciPy on mono signals. :func:`mfcc` reproduces python_speech_features'
``mfcc(signal, 16000)`` with every default (the front end of SyncNet's reference code),
on the int16 sample scale the reference reads from its WAV file.

References
----------
S. Davis and P. Mermelstein, "Comparison of parametric representations for monosyllabic word
recognition in continuously spoken sentences", IEEE TASSP 1980 (MFCC).
J. Lyons et al., python_speech_features 0.6 (the reference implementation matched here).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.fft import dct

SAMPLE_RATE = 16000


def to_int16_scale(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] → the int16 values FFmpeg's ``pcm_s16le`` writes, as float64.

    FFmpeg converts float to s16 as ``clip(lrintf(x · 32768))``; the reference's MFCC then
    runs on those integers, so the absolute scale (log energy, c0) matches only on this scale.
    """
    a = np.asarray(audio, dtype=np.float32) * np.float32(32768.0)
    return np.clip(np.rint(a), -32768, 32767).astype(np.float64)


def _hz2mel(hz):
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel2hz(mel):
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(nfilt: int = 26, nfft: int = 512, samplerate: int = SAMPLE_RATE,
                   lowfreq: float = 0.0, highfreq: float | None = None) -> np.ndarray:
    """(nfilt, nfft//2+1) triangular filters on FFT bins floored as python_speech_features does."""
    highfreq = highfreq or samplerate / 2
    mel = np.linspace(_hz2mel(lowfreq), _hz2mel(highfreq), nfilt + 2)
    b = np.floor((nfft + 1) * _mel2hz(mel) / samplerate)
    fb = np.zeros((nfilt, nfft // 2 + 1))
    i = np.arange(nfft // 2 + 1, dtype=np.float64)
    for j in range(nfilt):
        lo, mid, hi = b[j], b[j + 1], b[j + 2]
        up = (i >= lo) & (i < mid)
        down = (i >= mid) & (i < hi)
        fb[j, up] = (i[up] - lo) / (mid - lo)
        fb[j, down] = (hi - i[down]) / (hi - mid)
    fb.setflags(write=False)
    return fb


def _round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def power_frames(signal: np.ndarray, samplerate: int = SAMPLE_RATE, winlen: float = 0.025,
                 winstep: float = 0.01, nfft: int = 512, preemph: float = 0.97) -> np.ndarray:
    """Pre-emphasised, rectangular-windowed frames → power spectra, (n_frames, nfft//2+1).

    Framing as python_speech_features: ``1 + ceil((len − win) / step)`` frames (one if the
    signal is shorter than a window), the last zero-padded.
    """
    sig = np.asarray(signal, dtype=np.float64).reshape(-1)
    if sig.size == 0:
        raise ValueError("empty audio signal")
    sig = np.concatenate([sig[:1], sig[1:] - preemph * sig[:-1]])
    flen, fstep = _round_half_up(winlen * samplerate), _round_half_up(winstep * samplerate)
    n = 1 if sig.size <= flen else 1 + int(np.ceil((sig.size - flen) / fstep))
    padlen = (n - 1) * fstep + flen
    sig = np.concatenate([sig, np.zeros(padlen - sig.size)])
    frames = np.lib.stride_tricks.sliding_window_view(sig, flen)[::fstep][:n]
    return np.square(np.abs(np.fft.rfft(frames, nfft))) / nfft


def mfcc(signal: np.ndarray, samplerate: int = SAMPLE_RATE, numcep: int = 13, nfilt: int = 26,
         nfft: int = 512, ceplifter: int = 22) -> np.ndarray:
    """MFCCs exactly as python_speech_features ``mfcc(signal, samplerate)`` computes them.

    Parameters
    ----------
    signal : (N,) samples on the scale the caller wants (SyncNet's reference: int16 values,
        see :func:`to_int16_scale`).
    samplerate : Hz; the SyncNet front end uses 16 000.

    Returns
    -------
    (n_frames, numcep) float64: 25 ms rectangular windows every 10 ms, pre-emphasis 0.97,
    26 mel filters over 0–samplerate/2 on a 512-point FFT, log, orthonormal DCT-II, lifter 22,
    coefficient 0 replaced by the log frame energy (100 frames per second at any rate).
    """
    pspec = power_frames(signal, samplerate, nfft=nfft)
    eps = np.finfo(float).eps
    energy = pspec.sum(axis=1)
    energy = np.where(energy == 0, eps, energy)
    feat = pspec @ mel_filterbank(nfilt, nfft, samplerate).T
    feat = np.where(feat == 0, eps, feat)
    feat = dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :numcep]
    if ceplifter > 0:
        feat = feat * (1 + (ceplifter / 2.0) * np.sin(np.pi * np.arange(numcep) / ceplifter))
    feat[:, 0] = np.log(energy)
    return feat


def log_mel(signal: np.ndarray, samplerate: int = SAMPLE_RATE, nfilt: int = 40, winstep: float = 0.01) -> np.ndarray:
    """(n_frames, nfilt) log mel energies (no pre-emphasis), natural log, for envelopes and plots."""
    nfft = 512 if samplerate <= 16000 else 1024
    pspec = power_frames(signal, samplerate, winstep=winstep, nfft=nfft, preemph=0.0)
    return np.log(pspec @ mel_filterbank(nfilt, nfft, samplerate).T + 1e-10)
