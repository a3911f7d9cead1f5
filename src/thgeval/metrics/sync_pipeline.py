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
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction

import av
import cv2
import numpy as np

from ..io.jpeg import _roundtrip, ffmpeg_jpeg_frames, set_qscale

PIPELINE_FPS = 25


def _mpeg4_q2(frames, fps: int, qscale: int = 2):
    """Encode with FFmpeg's ``mpeg4`` encoder at a fixed quantiser and decode again, as the
    ``.avi`` re-encode (the avi muxer's default video codec) and its decode do."""
    enc = dec = None
    for i, vf in enumerate(frames):
        if enc is None:
            enc = av.CodecContext.create("mpeg4", "w")
            enc.width, enc.height, enc.pix_fmt = vf.width, vf.height, "yuv420p"
            enc.time_base = Fraction(1, fps)
            enc.framerate = Fraction(fps)
            set_qscale(enc, qscale)
            dec = av.CodecContext.create("mpeg4", "r")
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


def pipeline_frames(path, resampled_rgb: np.ndarray | None = None, fps: int = PIPELINE_FPS) -> np.ndarray:
    """BGR uint8 frames as ``run_pipeline.py`` reads them from ``pyframes/%06d.jpg``.

    ``resampled_rgb``: frames already resampled to 25 fps (for inputs at another rate); by
    default the decoder's own pictures of a 25 fps input are re-encoded.
    """
    if resampled_rgb is not None:
        src = (av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24") for f in resampled_rgb)
        return np.stack(list(_roundtrip(_mpeg4_q2(src, fps), fps, qscale=2)))
    with av.open(str(path)) as c:
        return np.stack(list(_roundtrip(_mpeg4_q2(c.decode(video=0), fps), fps, qscale=2)))


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


def xvid_jpeg_roundtrip(crops_bgr: np.ndarray, fps: int = PIPELINE_FPS) -> np.ndarray:
    """The crops as ``SyncNetInstance.evaluate`` sees them: written by ``cv2.VideoWriter``
    (XVID fourcc, 25 fps, as ``crop_video``), then FFmpeg's default JPEG dump of that file."""
    fd, tmp = tempfile.mkstemp(suffix=".avi")
    os.close(fd)
    try:
        h, w = crops_bgr.shape[1:3]
        vw = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"XVID"), fps, (w, h))
        if not vw.isOpened():
            raise RuntimeError("OpenCV cannot write XVID here (built without FFmpeg?)")
        for f in crops_bgr:
            vw.write(np.ascontiguousarray(f))
        vw.release()
        return ffmpeg_jpeg_frames(tmp)
    finally:
        os.unlink(tmp)
