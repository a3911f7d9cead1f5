"""Decoding: RGB uint8 frames at a constant rate, mono float32 audio at 16 kHz.

`ClipReader` streams a clip in chunks (bounded memory); `load_clip` decodes it whole.
Video and audio are demuxed in one pass over the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import TruncatedClipError
from .probe import ClipInfo, open_container, probe, video_stream

AUDIO_RATE = 16000
# Decoder threads per clip: 0 lets FFmpeg use every core (one process decoding); a worker of a
# pool sets its share (thgeval.run.backends.init_worker) so workers do not oversubscribe.
DECODE_THREADS = {"count": 0}
DEFAULT_CHUNK = 64


@dataclass
class Clip:
    """A decoded clip: ``frames`` T×H×W×3 uint8 RGB at ``fps``; ``audio`` float32 mono or None."""

    frames: np.ndarray
    fps: float
    audio: np.ndarray | None
    sample_rate: int
    info: ClipInfo
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.info.path

    def __len__(self) -> int:
        return len(self.frames)


class ClipReader:
    """Stream a clip's frames in chunks at a constant frame rate.

    Parameters
    ----------
    path : path of any file FFmpeg reads.
    fps : deliver frames at this rate, chosen by timestamps (nearest tick, like FFmpeg's fps
        filter). None keeps a constant-rate clip as it is and conforms a variable-rate clip
        to its average rate.
    audio : decode the audio track too (mono float32, 16 kHz) while streaming video.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float | None = None, audio: bool = True):
        self.path = Path(path)
        self.info = probe(self.path)
        self.resampled = fps is not None and abs(fps - self.info.fps) > 1e-6 or self.info.variable_frame_rate
        self.fps = float(fps) if fps is not None else self.info.fps
        self.want_audio = audio and self.info.has_audio
        self.audio: np.ndarray | None = None
        self.frames_read = 0
        # For each delivered frame, the index of the decoded (native) frame it shows: lets a
        # per-frame analysis of the native clip (face tracks) serve its resampled version.
        self.source_index: list[int] = []

    @property
    def notes(self) -> list[str]:
        n = []
        if self.info.variable_frame_rate:
            n.append(f"variable frame rate: resampled by timestamps to {self.fps:g} fps")
        elif self.resampled:
            n.append(f"resampled by timestamps from {self.info.fps:g} to {self.fps:g} fps")
        if self.info.grayscale:
            n.append(f"grayscale video ({self.info.pix_fmt}): grey replicated to RGB")
        return n

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[np.ndarray]:
        """Yield T×H×W×3 uint8 arrays of at most ``size`` frames; audio is ready at the end."""
        buf: list[np.ndarray] = []
        for frame in self._frames():
            buf.append(frame)
            if len(buf) == size:
                yield np.stack(buf)
                buf = []
        if buf:
            yield np.stack(buf)

    def read_all(self) -> np.ndarray:
        # one copy of the pixels (stacking chunks, then concatenating them, made two)
        frames = list(self._frames())
        if not frames:
            raise TruncatedClipError(self.path, "no frame could be decoded")
        return np.stack(frames)

    def _frames(self) -> Iterator[np.ndarray]:
        pcm: list[np.ndarray] = []
        self.frames_read = 0
        self.source_index = []
        decoded = 0
        with open_container(self.path) as container:
            vs = video_stream(container, self.path)
            vs.thread_type = "AUTO"  # frame and slice threads: decoding is the speed limit
            vs.thread_count = DECODE_THREADS["count"]
            streams = [vs]
            resampler = None
            if self.want_audio:
                astream = container.streams.audio[0]
                streams.append(astream)
                resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            picker = _TickPicker(self.fps) if self.resampled else None
            try:
                for packet in container.demux(*streams):
                    if packet.stream.type == "audio":
                        for af in packet.decode():
                            for rf in resampler.resample(af):
                                pcm.append(rf.to_ndarray().reshape(-1))
                        continue
                    for vf in packet.decode():
                        for out, src in self._emit(vf, decoded, picker):
                            self.frames_read += 1
                            self.source_index.append(src)
                            yield out
                        decoded += 1
            except av.error.FFmpegError as e:
                raise TruncatedClipError(
                    self.path, f"decoding failed after {self.frames_read} frames (FFmpeg: {e})"
                ) from None
            if picker is not None:
                for out, src in picker.flush():
                    self.frames_read += 1
                    self.source_index.append(src)
                    yield out
            if resampler is not None:
                for rf in resampler.resample(None):
                    pcm.append(rf.to_ndarray().reshape(-1))
        if self.frames_read == 0:
            raise TruncatedClipError(self.path, "no frame could be decoded")
        if self.want_audio:
            self.audio = np.concatenate(pcm).astype(np.float32) if pcm else np.zeros(0, np.float32)

    @staticmethod
    def _emit(vf, index: int, picker):
        # threads=1: libswscale would otherwise start (and join) a thread pool for every frame,
        # which costs more than the conversion; the pixels are the same (checked on real clips)
        rgb = vf.to_ndarray(format="rgb24", threads=1)
        if picker is None:
            yield rgb, index
            return
        yield from picker.push((rgb, index), vf.time)


class _TickPicker:
    """Constant-rate output from timestamped frames: each output tick shows the latest frame
    whose timestamp rounds to it or before (FFmpeg ``fps`` filter, rounding 'near').
    Frames are opaque items (here ``(rgb, decoded_index)``)."""

    def __init__(self, fps: float):
        self.fps = fps
        self.t0: float | None = None
        self.next_tick = 0
        self.pending: np.ndarray | None = None
        self.pending_tick = 0
        self.count = 0

    def push(self, frame, t: float | None) -> Iterator:
        if t is None:  # no timestamp: assume frames arrive at the target rate
            t = (self.t0 or 0.0) + self.count / self.fps
        self.count += 1
        if self.t0 is None:
            self.t0 = t
        tick = int(np.floor((t - self.t0) * self.fps + 0.5))
        if self.pending is not None and tick > self.pending_tick:
            # the pending frame fills every tick up to the new frame's tick
            while self.next_tick < tick:
                yield self.pending
                self.next_tick += 1
        if self.pending is None or tick >= self.pending_tick:
            self.pending, self.pending_tick = frame, max(tick, self.next_tick)

    def flush(self) -> Iterator:
        if self.pending is not None and self.next_tick <= self.pending_tick:
            while self.next_tick <= self.pending_tick:
                yield self.pending
                self.next_tick += 1


def load_clip(path: str | os.PathLike, *, fps: float | None = None, audio: bool = True) -> Clip:
    """Decode a whole clip: RGB uint8 frames at a constant rate, audio mono float32 16 kHz.

    Reads anything FFmpeg reads (mp4, avi, mpg, mov, mkv, webm, …). Raises a
    :class:`~thgeval.errors.ClipError` subclass with a one-line reason for unusable files.
    For long clips use :class:`ClipReader` and iterate ``chunks()`` in bounded memory.
    """
    reader = ClipReader(path, fps=fps, audio=audio)
    frames = reader.read_all()
    return Clip(frames, reader.fps, reader.audio, AUDIO_RATE, reader.info, reader.notes)


def load_audio_pcm16(path: str | os.PathLike) -> np.ndarray | None:
    """The audio track as the int16 samples ``ffmpeg -i path -ac 1 -ar 16000 -acodec pcm_s16le``
    writes (None when there is none): what SyncNet's reference scripts read back.

    Not :func:`load_audio` scaled: with an integer output format libswresample normalises
    the down-mix matrix (stereo → mono is ½L + ½R; a float output keeps ≈0.707L + 0.707R,
    3 dB louder and clipping on loud speech) and resamples in int16, so the samples differ.
    FFmpeg's ``-async 1`` (Wav2Lip's command) pads only a stream that starts late; this
    reader does not pad.
    """
    return _audio_only(path, "s16", np.int16)


def load_audio(path: str | os.PathLike) -> np.ndarray | None:
    """Only the audio track of a file, mono float32 at 16 kHz (None when it has none).

    Decodes no video, so a clip used only as an audio source (Wav2Lip's filelists pair a
    video with another clip's speech) costs its audio alone.
    """
    return _audio_only(path, "flt", np.float32)


def _audio_only(path, sample_format: str, dtype) -> np.ndarray | None:
    """The first audio track alone, mono 16 kHz in FFmpeg's ``sample_format`` (None: no audio)."""
    path = Path(path)
    pcm: list[np.ndarray] = []
    with open_container(path) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=AUDIO_RATE)
        try:
            for frame in container.decode(container.streams.audio[0]):
                for rf in resampler.resample(frame):
                    pcm.append(rf.to_ndarray().reshape(-1))
        except av.error.FFmpegError as e:
            raise TruncatedClipError(path, f"audio decoding failed (FFmpeg: {e})") from None
        for rf in resampler.resample(None):
            pcm.append(rf.to_ndarray().reshape(-1))
    return np.concatenate(pcm).astype(dtype) if pcm else np.zeros(0, dtype)
