"""Facts about a clip without decoding it: streams, size, codec, frame timing.

The packet scan (demux only, no decode) gives the exact frame count and the timestamps
that tell a constant from a variable frame rate.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import ClipError, EmptyFileError, NotAVideoError, NoVideoStreamError, TruncatedClipError

# A frame interval further than this share from the median one makes the clip VFR.
_VFR_TOLERANCE = 0.25


@dataclass(frozen=True)
class ClipInfo:
    """What a clip is, as read from its container and packets."""

    path: str
    size_bytes: int
    container: str
    codec: str
    width: int
    height: int
    pix_fmt: str
    grayscale: bool
    fps: float  # the nominal constant rate frames are delivered at
    frame_count: int  # video packets in the file (decoded frames may differ by decoder delay)
    duration_s: float
    variable_frame_rate: bool
    has_audio: bool
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a file with FFmpeg, turning its failures into one-line :class:`ClipError` s."""
    p = Path(path)
    if not p.exists():
        raise ClipError(p, "file not found")
    if p.is_dir():
        raise ClipError(p, "is a directory, not a video file")
    if p.stat().st_size == 0:
        raise EmptyFileError(p, "empty file (0 bytes)")
    try:
        return av.open(str(p), metadata_errors="ignore")
    except av.error.FFmpegError as e:
        # A cut MP4/MOV starts like one but has lost its index (the moov box at its end).
        reason = getattr(e, "strerror", None) or str(e)
        with open(p, "rb") as f:
            head = f.read(12)
        if head[4:8] == b"ftyp":
            raise TruncatedClipError(
                p, f"truncated or unfinished MP4/MOV: its index (moov) is missing (FFmpeg: {reason})"
            ) from None
        raise NotAVideoError(p, f"not a video FFmpeg can read (FFmpeg: {reason})") from None


def video_stream(container, path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise NoVideoStreamError(path, f"no video stream (streams found: {', '.join(kinds)})")
    return container.streams.video[0]


def probe(path: str | os.PathLike) -> ClipInfo:
    """Read a clip's facts (no decoding). Raises :class:`ClipError` for unusable files."""
    path = Path(path)
    with open_container(path) as container:
        vs = video_stream(container, path)
        cc = vs.codec_context
        if not cc.width or not cc.height:
            raise NotAVideoError(path, "video stream has no frame size (damaged header)")
        tb = vs.time_base
        pts = []
        try:
            for packet in container.demux(vs):
                if packet.size and packet.pts is not None:
                    pts.append(packet.pts)
        except av.error.FFmpegError as e:
            raise TruncatedClipError(path, f"damaged stream after {len(pts)} packets (FFmpeg: {e})") from None
        if not pts:
            raise TruncatedClipError(path, "video stream holds no frames")
        declared = vs.frames or 0
        if declared > 0 and len(pts) < declared - 1:
            raise TruncatedClipError(path, f"truncated: {len(pts)} of {declared} declared frames present")
        times = np.sort(np.asarray(pts, dtype=np.float64)) * float(tb)
        fps, vfr = _frame_timing(times, vs)
        duration = float(times[-1] - times[0]) + 1.0 / fps
        declared_s = (container.duration or 0) / 1e6
        # Matroska/WebM declare no frame count but a duration written when the file was
        # finished: frames missing from its end mean a cut file, not a short clip.
        if declared == 0 and "matroska" in container.format.name and declared_s > 0:
            if duration < 0.95 * declared_s - 2.0 / fps:
                raise TruncatedClipError(
                    path, f"truncated: frames cover {duration:.2f} s of the {declared_s:.2f} s the file declares"
                )
        audio = container.streams.audio[0] if container.streams.audio else None
        pix_fmt = cc.pix_fmt or ""
        return ClipInfo(
            path=str(path),
            size_bytes=path.stat().st_size,
            container=container.format.name,
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            pix_fmt=pix_fmt,
            grayscale=pix_fmt.startswith(("gray", "ya", "mono")),
            fps=fps,
            frame_count=len(pts),
            duration_s=duration,
            variable_frame_rate=vfr,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
        )


def _frame_timing(times: np.ndarray, vs) -> tuple[float, bool]:
    """Nominal fps and whether frame intervals vary (VFR)."""
    nominal = _rate(vs.guessed_rate) or _rate(vs.average_rate)
    if len(times) < 3:
        return nominal or 25.0, False
    d = np.diff(times)
    d = d[d > 0]
    med = float(np.median(d)) if len(d) else 0.0
    vfr = bool(len(d) and np.max(np.abs(d - med)) > _VFR_TOLERANCE * med)
    if vfr:
        # Deliver VFR at its average rate, like the container's avg_frame_rate.
        avg = _rate(vs.average_rate) or (len(times) - 1) / float(times[-1] - times[0])
        return avg, True
    return nominal or 1.0 / med, False


def _rate(r) -> float | None:
    if r is None:
        return None
    f = float(Fraction(r)) if not isinstance(r, float) else r
    return f if 0.5 < f < 1000 else None
