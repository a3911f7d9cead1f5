"""LSE-D, LSE-C and the AV offset: SyncNet scoring as its reference code computes it.

The scoring core (:func:`sync_scores`) is joonson/syncnet_python ``SyncNetInstance.evaluate``
/ ``calc_pdist`` (identical in Wav2Lip's ``SyncNetInstance_calc_scores.py``), on arrays:

- ``min_length = min(n_frames, floor(n_samples / 640))`` (25 fps video, 16 kHz audio);
  windows ``v = 0 … min_length − 6``: video frames ``[v, v+5)``, MFCC frames ``[4v, 4v+20)``;
- 1024-d embeddings, not normalised; the audio embeddings zero-padded by ``vshift`` (15)
  at both ends; per window the distance ``‖lip − aud + 1e-6‖₂`` (PyTorch
  ``pairwise_distance``) to the 31 audio windows ``v − 15 … v + 15``; mean over windows;
- LSE-D = minimum of that curve, LSE-C = its median − minimum, offset = 15 − argmin.
  A positive offset means the audio leads the video: the lips match audio ``offset``
  frames earlier (the reference's convention; its demo clip gives +3).
- per-window confidence: curve median − distance at the best shift (the reference's
  ``fconf``), also median-filtered over 9 windows (``fconfm``), kept for plots.

References
----------
J. S. Chung and A. Zisserman, "Out of time: automated lip sync in the wild", ACCV Workshops 2016.
K. R. Prajwal et al., "A lip sync expert is all you need for speech to lip generation in the
wild", ACM Multimedia 2020 (LSE-D / LSE-C).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import MetricSkipped

VSHIFT = 15
SAMPLES_PER_FRAME = 640  # 16 kHz / 25 fps
EPS = 1e-6  # torch.nn.functional.pairwise_distance's default


@dataclass
class SyncScores:
    """One clip's SyncNet result; ``curve`` (2·vshift+1,) mean distance per shift −vshift…+vshift
    of the audio, ``dists`` (n_windows, 2·vshift+1)."""

    lse_d: float
    lse_c: float
    offset: int
    curve: np.ndarray
    dists: np.ndarray
    frame_conf: np.ndarray  # per window: median(curve) − distance at the best shift
    frame_conf_smooth: np.ndarray  # the same, median-filtered over 9 windows (reference fconfm)
    vshift: int = VSHIFT
    notes: list[str] = field(default_factory=list)
    front_end: dict = field(default_factory=dict)  # pipeline variants: which tool made the lossy files
    tracks: list = field(default_factory=list)  # pipeline variants: per face track, as the reference prints it

    @property
    def n_windows(self) -> int:
        return len(self.dists)

    def shifts(self) -> np.ndarray:
        """Offsets (reference convention) of each curve entry: vshift − index."""
        return self.vshift - np.arange(len(self.curve))


def n_windows(n_frames: int, n_samples: int) -> int:
    """Windows the reference scores: ``min(n_frames, floor(n_samples / 640)) − 5``."""
    return min(n_frames, n_samples // SAMPLES_PER_FRAME) - 5


def shift_distances(lip: np.ndarray, aud: np.ndarray, vshift: int = VSHIFT) -> np.ndarray:
    """(n, 2·vshift+1) distances ``‖lip[i] − audp[i + j] + eps‖`` with zero-padded ``audp``."""
    lip = np.asarray(lip, dtype=np.float64)
    aud = np.asarray(aud, dtype=np.float64)
    n = len(lip)
    audp = np.concatenate([np.zeros((vshift, aud.shape[1])), aud, np.zeros((vshift, aud.shape[1]))])
    out = np.empty((n, 2 * vshift + 1))
    for j in range(2 * vshift + 1):
        out[:, j] = np.linalg.norm(lip - audp[j:j + n] + EPS, axis=1)
    return out


def sync_scores(lip: np.ndarray, aud: np.ndarray, vshift: int = VSHIFT) -> SyncScores:
    """LSE-D, LSE-C, offset and per-window confidence from (n, 1024) lip and audio embeddings."""
    if len(lip) != len(aud) or len(lip) < 1:
        raise ValueError(f"need equal, non-zero numbers of lip and audio windows; got {len(lip)} and {len(aud)}")
    dists = shift_distances(lip, aud, vshift)
    from scipy.signal import medfilt  # here: scipy.signal takes ~0.8 s to import, and every run loads this module

    curve = dists.mean(axis=0)
    idx = int(np.argmin(curve))
    med = float(np.median(curve))
    conf = med - dists[:, idx]
    return SyncScores(
        lse_d=float(curve[idx]), lse_c=med - float(curve[idx]), offset=vshift - idx, curve=curve, dists=dists,
        frame_conf=conf, frame_conf_smooth=medfilt(conf, kernel_size=9) if len(conf) else conf, vshift=vshift,
    )


def score_arrays(embedder, frames_bgr: np.ndarray, audio_int16: np.ndarray, vshift: int = VSHIFT) -> SyncScores:
    """The reference's ``evaluate`` on arrays: 224×224 BGR uint8 frames at 25 fps and 16 kHz
    audio on the int16 scale (see :func:`~thgeval.metrics.audio_features.to_int16_scale`).

    ``embedder`` is a :class:`thgeval.nets.syncnet.SyncNetEmbedder`.
    """
    from .audio_features import mfcc

    n = n_windows(len(frames_bgr), len(audio_int16))
    if n < 1:
        raise MetricSkipped(
            f"too short for SyncNet: {len(frames_bgr)} frames and {len(audio_int16) / 16000:.2f} s of audio "
            "give no 5-frame window"
        )
    notes = []
    secs_v, secs_a = len(frames_bgr) / 25, len(audio_int16) / 16000
    if abs(secs_v - secs_a) > 0.1:
        notes.append(f"audio ({secs_a:.2f} s) and video ({secs_v:.2f} s) lengths differ: scored over the shorter")
    lip = embedder.lips(frames_bgr, n)
    aud = embedder.audio(mfcc(audio_int16), n)
    res = sync_scores(lip, aud, vshift)
    res.notes = notes
    return res
