"""syncnet_python's ``run_pipeline.py`` front end: S3FD face tracks and their lossy crops.

joonson/syncnet_python ``run_pipeline.py`` (commit 6efbb1c) then ``run_syncnet.py``:

1. ``ffmpeg -i IN -qscale:v 2 -async 1 -r 25 video.avi`` (MPEG-4 Part 2 at quantiser 2,
   25 fps) and ``ffmpeg -i video.avi -qscale:v 2 -f image2 %06d.jpg`` (MJPEG at quantiser 2),
   frames read back by ``cv2.imread``: :func:`pipeline_frames`;
2. S3FD on each frame (RGB, scale 0.25, confidence 0.9, NMS 0.1): :mod:`thgeval.nets.s3fd`;
3. ``track_shot``: greedy IoU tracker (:func:`iou_tracks`);
4. ``crop_video``: median-13 box, crop of 2.8 half-sides (crop scale 0.4), grey 110 pad,
   224² (:mod:`thgeval.metrics.sync_crops`), written by OpenCV as XVID at 25 fps; the audio
   of the track's frames cut from the 16 kHz WAV;
5. ``SyncNetInstance.evaluate`` on each crop file: FFmpeg's default JPEG dump of it
   (:func:`thgeval.io.jpeg.ffmpeg_jpeg_frames`) and its audio; one score per track.

Scene cuts (PySceneDetect ``ContentDetector``) are not run: the whole clip is one shot.

bytedance/LatentSync ``eval/syncnet_detect.py`` + ``eval/syncnet/syncnet_eval.py`` (commit
a229c39) is the same pipeline with other files, reproduced by parameters of the same
functions: the re-encode goes to ``video.mp4`` (the mp4 muxer's defaults: libx264 at CRF 23,
``-qscale:v`` ignored, and FFmpeg's native AAC; ``reencode="h264-mp4"``), ``audio.wav`` is
decoded from that AAC, and each crop is written by OpenCV as ``mp4v`` in ``.mp4`` and muxed
with its audio cut as AAC (``crop_file="mp4v-mp4-aac"``), which ``evaluate`` decodes again.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction

import av
import cv2
import numpy as np

from ..io.clip import load_audio_pcm16
from ..io.jpeg import _roundtrip, ffmpeg_jpeg_frames, set_qscale

PIPELINE_FPS = 25
MP3_DELAY = 1105  # libmp3lame's initial padding as FFmpeg counts it (576 encoder + 529 decoder samples)


X264_THREADS = 3  # the FFmpeg CLI's libx264 default on 2 cores (x264's auto: 1.5 × cores, frame threads)
REENCODES = ("mpeg4-avi", "h264-mp4")
CROP_FILES = ("xvid-avi", "mp4v-mp4-aac")


def _mpeg4_q2(frames, fps: int, qscale: int = 2, codec: str = "mpeg4"):
    """Encode and decode again, as the ``-qscale:v 2 -r 25`` re-encode and its decode do.

    ``codec="mpeg4"``: the ``.avi`` muxer's default video codec at a fixed quantiser.
    ``codec="libx264"``: the ``.mp4`` muxer's default (libx264 ignores ``-qscale``: CRF 23,
    preset medium) with the CLI's frame threading, :data:`X264_THREADS` threads (x264's
    output depends on its thread count; the CLI's auto count is 1.5 × the machine's cores).
    """
    enc = dec = None
    for i, vf in enumerate(frames):
        if enc is None:
            enc = av.CodecContext.create(codec, "w")
            enc.width, enc.height, enc.pix_fmt = vf.width, vf.height, "yuv420p"
            enc.time_base = Fraction(1, fps)
            enc.framerate = Fraction(fps)
            if codec == "libx264":
                enc.thread_type, enc.thread_count = "FRAME", X264_THREADS
            else:
                set_qscale(enc, qscale)
            dec = av.CodecContext.create("h264" if codec == "libx264" else codec, "r")
        yf = vf.reformat(format="yuv420p")
        yf.pict_type = av.video.frame.PictureType.NONE
        yf.time_base = enc.time_base
        yf.pts = i
        for p in enc.encode(yf):
            yield from dec.decode(p)
    if enc is not None:
        for p in enc.encode(None):
            yield from dec.decode(p)
        yield from dec.decode(None)


def _repeat_first(frames, n: int):
    """The decoded pictures with the first one shown ``1 + n`` times (the CFR frame dump of
    ``video.avi``, whose later frames sit ``n`` frames late)."""
    for i, f in enumerate(frames):
        for _ in range(1 + (n if i == 0 else 0)):
            yield f


def pipeline_frames(path, resampled_rgb: np.ndarray | None = None, fps: int = PIPELINE_FPS,
                    shift: int = 0, reencode: str = "mpeg4-avi") -> np.ndarray:
    """BGR uint8 frames as ``run_pipeline.py`` reads them from ``pyframes/%06d.jpg``.

    ``reencode``: ``"mpeg4-avi"`` (syncnet_python's ``video.avi``) or ``"h264-mp4"``
    (LatentSync's ``video.mp4``: libx264, whose frames the ``.mp4`` edit list keeps in place).

    ``resampled_rgb``: frames already resampled to 25 fps (for inputs at another rate); by
    default the decoder's own pictures of a 25 fps input are re-encoded. ``shift``: frames by
    which ``video.avi`` delays all but its first picture (:func:`mp3_video_shift`); the frame
    dump fills the gap with copies of the first.
    """
    if reencode not in REENCODES:
        raise ValueError(f"reencode must be one of {REENCODES}; got {reencode!r}")
    codec = "libx264" if reencode == "h264-mp4" else "mpeg4"
    if resampled_rgb is not None:
        src = (av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24") for f in resampled_rgb)
        return np.stack(list(_roundtrip(_repeat_first(_mpeg4_q2(src, fps, codec=codec), shift), fps, qscale=2)))
    with av.open(str(path)) as c:
        return np.stack(list(_roundtrip(_repeat_first(_mpeg4_q2(c.decode(video=0), fps, codec=codec), shift),
                                        fps, qscale=2)))


def mp3_video_shift(sample_rate: int, fps: int = PIPELINE_FPS) -> int:
    """Frames by which FFmpeg's ``.avi`` muxer (FFmpeg 5.1 CLI, measured) delays every video
    frame but the first when the audio is MP3: the first MP3 packet carries pts
    −``MP3_DELAY`` samples, rounded to whole packets in the muxer's packet time base; the
    muxer shifts the later packets of all streams to make it non-negative, and the video
    pts (1/25 s) round to the nearest frame. 16 kHz (576-sample packets): 2 frames; 44.1 and
    48 kHz (1152): 1."""
    frame_size = 1152 if sample_rate >= 32000 else 576
    shift_s = round(MP3_DELAY / frame_size) * frame_size / sample_rate
    return int(np.floor(shift_s * fps + 0.5))


def _aac_mp4(frames, rate: int, layout: str) -> np.ndarray:
    """Audio frames through FFmpeg's native AAC encoder (its defaults, ``fltp``) in a scratch
    ``.mp4``, read back as ``-ac 1 -ar 16000 pcm_s16le`` (the edit list drops the priming)."""
    fd, tmp = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mp4") as out:
            ost = out.add_stream("aac", rate=rate, layout=layout)
            ost.codec_context.format = "fltp"
            ost.codec_context.open()
            res = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=ost.codec_context.frame_size)
            for frame in frames:
                for rf in res.resample(frame):
                    out.mux(ost.encode(rf))
            for rf in res.resample(None):
                out.mux(ost.encode(rf))
            out.mux(ost.encode(None))
        return load_audio_pcm16(tmp)
    finally:
        os.unlink(tmp)


def aac_roundtrip(pcm16: np.ndarray, rate: int = 16000) -> np.ndarray:
    """A mono int16 cut as LatentSync's ``evaluate`` reads it back: ``crop_video`` muxes the
    WAV cut as AAC into the crop ``.mp4`` (``-c:a aac``), ``evaluate`` decodes it with
    ``-async 1 -ac 1 -ar 16000 -acodec pcm_s16le`` (``-async 1`` pads only a late start)."""
    if not len(pcm16):
        return np.zeros(0, np.int16)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm16, dtype=np.int16).reshape(1, -1),
                                       format="s16", layout="mono")
    frame.sample_rate, frame.pts = rate, 0
    return _aac_mp4([frame], rate, "mono")


def pipeline_audio(path, reencode: str = "mpeg4-avi") -> tuple[np.ndarray | None, int]:
    """``pyavi/audio.wav`` of ``run_pipeline.py`` and the video shift it implies.

    ``reencode="h264-mp4"``: LatentSync's ``audio.wav``, decoded from ``video.mp4``'s AAC
    (FFmpeg's native encoder with its defaults; the edit list keeps the video in place: shift
    0). FFmpeg's AAC encoder in PyAV's libavcodec is not FFmpeg 5.1's: the first 41 packets of
    the reference clip are identical, later ones differ (up to 148 int16 levels decoded).

    ``ffmpeg -i IN ... video.avi`` writes the audio with the ``.avi`` muxer's default audio
    codec, MP3 (libmp3lame, its own default rate of about 24 kb/s at 16 kHz), at the input's
    rate and layout; AVI keeps neither the encoder delay nor the end padding, so the decoded
    audio starts ``MP3_DELAY`` samples late and runs to whole packets. Reproduced here: the
    input's audio as ``s16p`` (the format the CLI negotiates), libmp3lame with its defaults,
    muxed into a scratch ``.avi``, read back as ``-ac 1 -ar 16000 pcm_s16le``
    (:func:`thgeval.io.load_audio_pcm16`). Returns ``(int16 samples or None, shift)``.
    """
    if reencode not in REENCODES:
        raise ValueError(f"reencode must be one of {REENCODES}; got {reencode!r}")
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None, 0
        ast = c.streams.audio[0]
        rate, nch = ast.codec_context.sample_rate, ast.codec_context.channels
        layout = {1: "mono", 2: "stereo"}.get(nch) or ast.codec_context.layout.name  # CLI's default layouts
        if reencode == "h264-mp4":
            return _aac_mp4(c.decode(ast), rate, layout), 0
        fd, tmp = tempfile.mkstemp(suffix=".avi")
        os.close(fd)
        try:
            with av.open(tmp, "w", format="avi") as out:
                ost = out.add_stream("libmp3lame", rate=rate, layout=layout)
                ost.codec_context.format = "s16p"
                ost.codec_context.open()
                res = av.AudioResampler(format="s16p", layout=layout, rate=rate,
                                        frame_size=ost.codec_context.frame_size)
                for frame in c.decode(ast):
                    for rf in res.resample(frame):
                        out.mux(ost.encode(rf))
                for rf in res.resample(None):
                    out.mux(ost.encode(rf))
                out.mux(ost.encode(None))
            return load_audio_pcm16(tmp), mp3_video_shift(rate)
        finally:
            os.unlink(tmp)


def _iou(a, b) -> float:
    """``bb_intersection_over_union`` of ``run_pipeline.py`` (no +1 on the sides)."""
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def iou_tracks(dets: list, min_track: int = 100, max_gap: int = 25, min_face: float = 100,
               iou_thres: float = 0.5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Face tracks of per-frame detections, as ``run_pipeline.py``'s ``track_shot``.

    ``dets[i]``: (K, ≥4) boxes ``x0, y0, x1, y1`` of frame i. Greedy passes: each pass starts a
    track at the first remaining box and appends, frame by frame, every box whose IoU with the
    track's last box exceeds ``iou_thres`` while the gap is at most ``max_gap`` frames. The
    reference removes boxes from the list it iterates over, which skips the box after each
    one taken; the same list iteration is kept here on purpose. Tracks longer than
    ``min_track`` boxes are interpolated over their frames (linear) and kept when their mean
    width or height exceeds ``min_face``. Returns ``(frames, boxes (n, 4))`` per track.
    """
    scene = [[(i, [float(v) for v in b[:4]]) for b in d] for i, d in enumerate(dets)]
    tracks = []
    while True:
        track = []
        for framefaces in scene:
            for face in framefaces:  # mutated while iterated, as the reference
                if not track:
                    track.append(face)
                    framefaces.remove(face)
                elif face[0] - track[-1][0] <= max_gap:
                    if _iou(face[1], track[-1][1]) > iou_thres:
                        track.append(face)
                        framefaces.remove(face)
                        continue
                else:
                    break
        if not track:
            break
        if len(track) > min_track:
            fn = np.array([f[0] for f in track])
            bx = np.array([f[1] for f in track])
            fi = np.arange(fn[0], fn[-1] + 1)
            bi = np.stack([np.interp(fi, fn, bx[:, j]) for j in range(4)], axis=1)
            if max(np.mean(bi[:, 2] - bi[:, 0]), np.mean(bi[:, 3] - bi[:, 1])) > min_face:
                tracks.append((fi, bi))
    return tracks


def xvid_jpeg_roundtrip(crops_bgr: np.ndarray, fps: int = PIPELINE_FPS, crop_file: str = "xvid-avi") -> np.ndarray:
    """The crops as ``SyncNetInstance.evaluate`` sees them: written by ``cv2.VideoWriter``
    (XVID fourcc, 25 fps, as ``crop_video``), then FFmpeg's default JPEG dump of that file.

    ``crop_file="mp4v-mp4-aac"``: LatentSync's ``crop_video`` (``mp4v`` fourcc in ``.mp4``;
    its ``-c:v copy`` mux with the AAC audio leaves the video packets as they are)."""
    if crop_file not in CROP_FILES:
        raise ValueError(f"crop_file must be one of {CROP_FILES}; got {crop_file!r}")
    fourcc, suffix = ("mp4v", ".mp4") if crop_file == "mp4v-mp4-aac" else ("XVID", ".avi")
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    try:
        h, w = crops_bgr.shape[1:3]
        vw = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
        if not vw.isOpened():
            raise RuntimeError(f"OpenCV cannot write {fourcc} here (built without FFmpeg?)")
        for f in crops_bgr:
            vw.write(np.ascontiguousarray(f))
        vw.release()
        return ffmpeg_jpeg_frames(tmp)
    finally:
        os.unlink(tmp)
