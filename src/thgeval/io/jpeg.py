"""The JPEG round trip of reference pipelines that dump frames with FFmpeg and read them back.

SyncNet's reference code (joonson/syncnet_python ``SyncNetInstance.evaluate``, Wav2Lip's
``SyncNetInstance_calc_scores.py``) runs ``ffmpeg -i VIDEO -f image2 %06d.jpg`` and reads
each file with OpenCV. With no quality option FFmpeg's MJPEG encoder runs its rate control
at the default 200 kb/s, so the frames the network sees are noticeably lossy; the numbers
those scripts publish include that loss. This module makes the same bytes with the same
encoder (libavcodec's ``mjpeg`` through PyAV, full-range ``yuvj420p`` as FFmpeg converts
to, one thread as the scripts pass ``-threads 1``) and decodes them with OpenCV (libjpeg),
as ``cv2.imread`` does.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import av
import cv2
import numpy as np

from .probe import open_container, video_stream

FFMPEG_DEFAULT_BITRATE = 200_000  # libavcodec's default "b" option


FF_QP2LAMBDA = 118  # libavutil: ``-qscale:v q`` sets global_quality = q · FF_QP2LAMBDA


def set_qscale(enc: av.CodecContext, qscale: int | None) -> None:
    """What ``-qscale:v q`` does to an encoder: fixed quantiser ``q`` instead of rate control."""
    if qscale is not None:
        enc.qscale = True
        enc.global_quality = int(qscale) * FF_QP2LAMBDA
        enc.qmin = min(enc.qmin, int(qscale))  # frames carry no quality: the quantiser falls to qmin


def _encoder(width: int, height: int, fps: float, qscale: int | None = None) -> av.CodecContext:
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height = width, height
    enc.pix_fmt = "yuvj420p"
    rate = Fraction(fps).limit_denominator(1001)
    enc.time_base = 1 / rate
    enc.framerate = rate
    enc.bit_rate = FFMPEG_DEFAULT_BITRATE
    enc.thread_count = 1
    set_qscale(enc, qscale)
    return enc


def _decode_jpeg(packet_bytes: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(packet_bytes, np.uint8), cv2.IMREAD_COLOR)


def _roundtrip(frames: Iterator[av.VideoFrame], fps: float, qscale: int | None = None) -> Iterator[np.ndarray]:
    enc = None
    pts = 0
    for vf in frames:
        if enc is None:
            enc = _encoder(vf.width, vf.height, fps, qscale)
        # libswscale converts to full range for yuvj*; threads=1: no thread pool per frame
        yf = vf.reformat(format="yuvj420p", threads=1)
        yf.color_range = 2  # JPEG (full) range: the encoder refuses an unspecified range
        yf.pict_type = av.video.frame.PictureType.NONE  # the decoder's P/B marks are not for an intra encoder
        yf.time_base = enc.time_base  # PyAV rescales pts from the frame's time base
        yf.pts = pts
        pts += 1
        for p in enc.encode(yf):
            yield _decode_jpeg(bytes(p))
    if enc is not None:
        for p in enc.encode(None):
            yield _decode_jpeg(bytes(p))


def ffmpeg_jpeg_frames(path: str | os.PathLike, qscale: int | None = None) -> np.ndarray:
    """Every decoded frame of ``path`` as BGR uint8 after FFmpeg's default JPEG round trip.

    The frames ``ffmpeg -i path -f image2 %06d.jpg`` writes, read back by ``cv2.imread``: the
    decoded pictures are converted to full-range YUV 4:2:0 by libswscale, encoded with the
    MJPEG encoder's defaults and decoded by libjpeg. No frame-rate change (image2 writes
    every decoded frame of a constant-rate input). ``qscale``: ``-qscale:v`` (fixed
    quantiser) instead of the default rate control.
    """
    with open_container(path) as c:
        vs = video_stream(c, path)
        fps = float(vs.average_rate or vs.guessed_rate or 25)
        return np.stack(list(_roundtrip(c.decode(vs), fps, qscale)))


def jpeg_roundtrip(frames_rgb: np.ndarray, fps: float = 25.0) -> np.ndarray:
    """RGB uint8 frames → BGR uint8 after FFmpeg's default MJPEG encode and a libjpeg decode.

    For frames already decoded to RGB (the RGB → YUV step differs from a decoder's own
    YUV by rounding, so this is the reference's loss, not its exact bytes; see
    :func:`ffmpeg_jpeg_frames` for those).
    """
    gen = (av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24") for f in frames_rgb)
    return np.stack(list(_roundtrip(gen, fps)))
