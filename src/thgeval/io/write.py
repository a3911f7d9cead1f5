"""Writing clips: H.264 video and AAC audio in MP4 (or any container FFmpeg names)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .clip import AUDIO_RATE


def write_clip(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: float,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int = AUDIO_RATE,
    crf: int = 18,
    lossless: bool = False,
    codec: str = "libx264",
) -> Path:
    """Encode T×H×W×3 uint8 RGB frames (and optional mono float audio in [-1, 1]).

    ``lossless`` encodes H.264 4:4:4 at qp 0 (only the RGB→YUV rounding remains). Odd frame
    sizes are encoded in 4:4:4 since 4:2:0 needs even sides.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be T×H×W×3 uint8; got {frames.shape} {frames.dtype}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _, h, w, _ = frames.shape
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w") as out:
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height = w, h
        even = w % 2 == 0 and h % 2 == 0
        vs.pix_fmt = "yuv420p" if even and not lossless else "yuv444p"
        if codec == "libx264":
            vs.options = {"qp": "0"} if lossless else {"crf": str(crf), "preset": "medium"}
        ast = None
        if audio is not None:
            ast = out.add_stream("aac", rate=sample_rate)
            ast.layout = "mono"
        for f in frames:
            for packet in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if ast is not None:
            pcm = np.clip(np.asarray(audio, dtype=np.float32).reshape(1, -1), -1, 1)
            af = av.AudioFrame.from_ndarray(pcm, format="flt", layout="mono")
            af.sample_rate = sample_rate
            for packet in ast.encode(af):
                out.mux(packet)
            for packet in ast.encode():
                out.mux(packet)
    return path
