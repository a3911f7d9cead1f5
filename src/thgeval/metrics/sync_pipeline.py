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

Scene cuts: PySceneDetect 0.5's ``ContentDetector`` (:mod:`thgeval.io.scenes`) on the frames
OpenCV reads from the re-encoded file; faces are tracked within each scene of at least
``min_track`` frames, so no track crosses a cut (``run_pipeline.py``'s loop over ``scene``).

Two ways to make the lossy files (parameter ``encoder``; ``"auto"`` picks at run time and the
row records which ran, with its version):

- ``"ffmpeg"`` (:class:`FfmpegFrontEnd`, the default where an ``ffmpeg`` executable is on
  PATH): the reference's own ``ffmpeg`` commands, same arguments, on files in a scratch
  directory, and ``cv2.VideoWriter`` for the crops, as the scripts do: the numbers are the
  reference's when that ``ffmpeg`` is the one the reference ran with.
- ``"pyav"``: PyAV's libavcodec re-creates each file in memory (:func:`pipeline_frames`,
  :func:`pipeline_audio`, :func:`xvid_jpeg_roundtrip`, :func:`aac_roundtrip`); its lossy
  encoders are not bit-equal to another FFmpeg's, so the numbers are close, not equal.

bytedance/LatentSync ``eval/syncnet_detect.py`` + ``eval/syncnet/syncnet_eval.py`` (commit
a229c39) is the same pipeline with other files, reproduced by parameters of the same
functions: the re-encode goes to ``video.mp4`` (the mp4 muxer's defaults: libx264 at CRF 23,
``-qscale:v`` ignored, and FFmpeg's native AAC; ``reencode="h264-mp4"``), ``audio.wav`` is
decoded from that AAC, and each crop is written by OpenCV as ``mp4v`` in ``.mp4`` and muxed
with its audio cut as AAC (``crop_file="mp4v-mp4-aac"``), which ``evaluate`` decodes again.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

from ..io.clip import load_audio_pcm16
from ..io.scenes import ContentCuts
from ..io.jpeg import _roundtrip, ffmpeg_jpeg_frames, set_qscale

PIPELINE_FPS = 25
MP3_DELAY = 1105  # libmp3lame's initial padding as FFmpeg counts it (576 encoder + 529 decoder samples)


X264_THREADS = 3  # the FFmpeg CLI's libx264 default on 2 cores (x264's auto: 1.5 × cores, frame threads)
REENCODES = ("mpeg4-avi", "h264-mp4")
CROP_FILES = ("xvid-avi", "mp4v-mp4-aac")
ENCODERS = ("auto", "ffmpeg", "pyav")


def _mpeg4_q2(frames, fps: int, qscale: int = 2, codec: str = "mpeg4"):
    """Encode and decode again, as the ``-qscale:v 2 -r 25`` re-encode and its decode do.

    ``codec="mpeg4"``: the ``.avi`` muxer's default video codec at a fixed quantiser.
    ``codec="libx264"``: the ``.mp4`` muxer's default (libx264 ignores ``-qscale``: CRF 23,
    preset medium) with the CLI's frame threading, :data:`X264_THREADS` threads (x264's
    output depends on its thread count; the CLI's auto count is 1.5 × the machine's cores),
    encoded in a fresh process (:func:`_x264_packets`).
    """
    if codec == "libx264":
        yield from _x264_roundtrip(frames, fps)
        return
    enc = dec = None
    for i, vf in enumerate(frames):
        if enc is None:
            enc = av.CodecContext.create(codec, "w")
            enc.width, enc.height, enc.pix_fmt = vf.width, vf.height, "yuv420p"
            enc.time_base = Fraction(1, fps)
            enc.framerate = Fraction(fps)
            set_qscale(enc, qscale)
            dec = av.CodecContext.create(codec, "r")
        yf = vf.reformat(format="yuv420p", threads=1)  # no per-frame swscale thread pool
        yf.pict_type = av.video.frame.PictureType.NONE
        yf.time_base = enc.time_base
        yf.pts = i
        for p in enc.encode(yf):
            yield from dec.decode(p)
    if enc is not None:
        for p in enc.encode(None):
            yield from dec.decode(p)
        yield from dec.decode(None)


_X264_CHILD = """
import pickle, sys
from fractions import Fraction
import av, numpy as np
planes = np.load(sys.argv[1])
fps, threads = int(sys.argv[3]), int(sys.argv[4])
enc = av.CodecContext.create("libx264", "w")
enc.width, enc.height, enc.pix_fmt = planes.shape[2], planes.shape[1] * 2 // 3, "yuv420p"
enc.time_base, enc.framerate = Fraction(1, fps), Fraction(fps)
enc.thread_type, enc.thread_count = "FRAME", threads
out = []
for i, a in enumerate(planes):
    yf = av.VideoFrame.from_ndarray(a, format="yuv420p")
    yf.time_base, yf.pts = enc.time_base, i
    out += [bytes(p) for p in enc.encode(yf)]
out += [bytes(p) for p in enc.encode(None)]
with open(sys.argv[2], "wb") as f:
    pickle.dump(out, f)
"""


def _x264_roundtrip(frames, fps: int):
    """libx264 (CLI defaults, :data:`X264_THREADS` frame threads) and the h264 decoder.

    The encode runs in a fresh Python process: the libx264 of PyAV's wheel (core 165, with
    its AVX-512 code) gives other bits when it runs again in a process that has run it
    before (measured: the first encode of a process equals the FFmpeg 5.1 CLI's, later ones
    vary from run to run, with 1 or 3 threads; ``asm`` without AVX-512 is stable but differs
    from the CLI's AVX-512 output), as a read of uninitialised memory would; a fresh process
    makes it repeatable."""
    import pickle
    import sys

    planes = [vf.to_ndarray(format="yuv420p", threads=1) for vf in frames]
    if not planes:
        return
    with tempfile.TemporaryDirectory(prefix="thgeval-x264-") as d:
        src, dst = os.path.join(d, "in.npy"), os.path.join(d, "out.pkl")
        np.save(src, np.stack(planes))
        subprocess.run([sys.executable, "-c", _X264_CHILD, src, dst, str(fps), str(X264_THREADS)], check=True,
                       capture_output=True)
        with open(dst, "rb") as f:
            packets = pickle.load(f)
    dec = av.CodecContext.create("h264", "r")
    for b in packets:
        yield from dec.decode(av.Packet(b))
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


def _audio_roundtrip(frames, rate: int, layout: str, codec: str, sample_format: str, container: str) -> np.ndarray:
    """Audio frames through ``codec`` with its defaults (in ``sample_format``, the format the
    CLI negotiates) in a scratch file of ``container``, read back as ``-ac 1 -ar 16000
    pcm_s16le`` (:func:`thgeval.io.load_audio_pcm16`)."""
    fd, tmp = tempfile.mkstemp(suffix="." + container)
    os.close(fd)
    try:
        with av.open(tmp, "w", format=container) as out:
            ost = out.add_stream(codec, rate=rate, layout=layout)
            ost.codec_context.format = sample_format
            ost.codec_context.open()
            res = av.AudioResampler(format=sample_format, layout=layout, rate=rate,
                                    frame_size=ost.codec_context.frame_size)
            for frame in frames:
                for rf in res.resample(frame):
                    out.mux(ost.encode(rf))
            for rf in res.resample(None):
                out.mux(ost.encode(rf))
            out.mux(ost.encode(None))
        return load_audio_pcm16(tmp)
    finally:
        os.unlink(tmp)


def _aac_mp4(frames, rate: int, layout: str) -> np.ndarray:
    """FFmpeg's native AAC encoder (``fltp``) in ``.mp4``: the edit list drops the priming."""
    return _audio_roundtrip(frames, rate, layout, "aac", "fltp", "mp4")


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
        return _audio_roundtrip(c.decode(ast), rate, layout, "libmp3lame", "s16p", "avi"), mp3_video_shift(rate)


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


# --- the reference's own ffmpeg commands -------------------------------------------------------

@lru_cache(maxsize=8)
def _ffmpeg_version(exe: str, stamp: tuple) -> str:
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False).stdout
    first = out.splitlines()[0] if out else ""
    return first.split(" Copyright")[0].removeprefix("ffmpeg version ").strip() or "unknown"


def ffmpeg_cli() -> tuple[str, str] | None:
    """``(path, version)`` of the ``ffmpeg`` executable on PATH, or None."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    st = os.stat(exe)
    return exe, _ffmpeg_version(exe, (st.st_size, st.st_mtime_ns))


def resolve_encoder(encoder: str = "auto") -> dict:
    """Which front end ``encoder`` means here: ``{"encoder": "ffmpeg", "ffmpeg": version,
    "exe": path}`` or ``{"encoder": "pyav", "libavcodec": version}``. ``"auto"``: the ffmpeg
    CLI where one is on PATH, else PyAV. ``"ffmpeg"`` without one raises FileNotFoundError."""
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}; got {encoder!r}")
    cli = ffmpeg_cli() if encoder != "pyav" else None
    if cli is not None:
        return {"encoder": "ffmpeg", "ffmpeg": cli[1], "exe": cli[0]}
    if encoder == "ffmpeg":
        raise FileNotFoundError("encoder='ffmpeg' but no ffmpeg executable is on PATH")
    return {"encoder": "pyav", "libavcodec": f"{getattr(av, 'ffmpeg_version_info', '?')} (PyAV {av.__version__})"}


def describe_encoder(res: dict) -> str:
    """One line for a row's notes."""
    if res["encoder"] == "ffmpeg":
        return f"lossy steps by the ffmpeg CLI {res['ffmpeg']} (the reference's commands)"
    return (f"lossy steps by PyAV's libavcodec {res['libavcodec']} (no ffmpeg on PATH): close to, not "
            "bit-equal with, the reference's ffmpeg CLI")


def evaluate_inputs_cli(exe: str, video, audio=None) -> tuple[np.ndarray, np.ndarray]:
    """What ``SyncNetInstance.evaluate(opt, videofile)`` (syncnet_python, Wav2Lip's
    ``SyncNetInstance_calc_scores.py``) reads, made by its own two commands: ``ffmpeg -y -i
    VIDEO -threads 1 -f image2 %06d.jpg`` (read back with ``cv2.imread``: BGR) and ``ffmpeg -y
    -i VIDEO -async 1 -ac 1 -vn -acodec pcm_s16le -ar 16000 audio.wav`` (``audio``: another file
    for the second command). Returns (BGR frames, int16 samples)."""
    from scipy.io import wavfile

    with tempfile.TemporaryDirectory(prefix="thgeval-syncnet-") as d:
        run = ([exe, "-y", "-nostdin", "-loglevel", "error", "-i", str(video), "-threads", "1", "-f", "image2",
                str(Path(d) / "%06d.jpg")],
               [exe, "-y", "-nostdin", "-loglevel", "error", "-i", str(audio or video), "-async", "1", "-ac", "1",
                "-vn", "-acodec", "pcm_s16le", "-ar", "16000", str(Path(d) / "audio.wav")])
        for cmd in run:
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if p.returncode != 0:
                raise RuntimeError(f"ffmpeg failed ({p.returncode}): {' '.join(cmd)}: {p.stderr.strip()[-500:]}")
        frames = FfmpegFrontEnd._jpegs(Path(d))
        samples = wavfile.read(str(Path(d) / "audio.wav"))[1]
    return frames, samples


class FfmpegFrontEnd:
    """The files of ``run_pipeline.py`` (``reencode="mpeg4-avi"``) or LatentSync's
    ``syncnet_detect.py`` (``"h264-mp4"``), made by the same ``ffmpeg`` commands in a scratch
    directory (``-nostdin -loglevel error`` added: they change no output).

    :meth:`prepare` runs the re-encode, the q2 JPEG frame dump and the 16 kHz WAV;
    :meth:`track` writes one track's crops with ``cv2.VideoWriter``, cuts and muxes its
    audio and reads the result back as ``evaluate`` does (default-quality JPEG dump, WAV).
    ``audio``: another file to take the audio from (``-map``; the references use the
    video's own). ``shortcuts``: skip the round trips that change no number (the XVID crop's
    PCM audio cut, mux and decode, which give back the WAV's samples; the frame dump then
    reads the crop file before the mux, whose video packets the mux copies); False runs
    every command the reference runs.
    """

    def __init__(self, exe: str, video, audio=None, reencode: str = "mpeg4-avi", crop_file: str = "xvid-avi",
                 fps: int = PIPELINE_FPS, shortcuts: bool = True):
        if reencode not in REENCODES:
            raise ValueError(f"reencode must be one of {REENCODES}; got {reencode!r}")
        if crop_file not in CROP_FILES:
            raise ValueError(f"crop_file must be one of {CROP_FILES}; got {crop_file!r}")
        self.exe, self.video, self.fps = exe, str(video), fps
        self.audio = None if audio is None or Path(audio) == Path(video) else str(audio)
        self.reencode, self.crop_file, self.shortcuts = reencode, crop_file, shortcuts
        self.dir = Path(tempfile.mkdtemp(prefix="thgeval-syncnet-"))
        self._audio = None
        self._n = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, *args) -> None:
        cmd = [self.exe, "-y", "-nostdin", "-loglevel", "error", *map(str, args)]
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"ffmpeg failed ({p.returncode}): {' '.join(cmd)}: {p.stderr.strip()[-500:]}")

    @staticmethod
    def _jpegs(folder: Path) -> np.ndarray:
        flist = sorted(glob.glob(str(folder / "*.jpg")))
        return np.stack([cv2.imread(f) for f in flist]) if flist else np.zeros((0, 1, 1, 3), np.uint8)

    @staticmethod
    def _wav(path: Path) -> np.ndarray:
        from scipy.io import wavfile

        return wavfile.read(str(path))[1]

    def prepare(self) -> tuple[np.ndarray, list, np.ndarray]:
        """``(BGR frames of the dump, PySceneDetect's scenes, int16 audio.wav)``; the scenes are
        ``(first, end)`` ranges over the frames OpenCV reads from the re-encoded file, as
        PySceneDetect's ``VideoManager`` reads them."""
        avi = self.reencode == "mpeg4-avi"
        vfile = self.dir / ("video.avi" if avi else "video.mp4")
        src = ["-i", self.video] + ([] if self.audio is None else ["-i", self.audio, "-map", "0:v:0", "-map", "1:a:0"])
        self._run(*src, "-qscale:v", "2", "-async", "1", "-r", self.fps, vfile)
        (self.dir / "frames").mkdir()
        self._run("-i", vfile, "-qscale:v", "2", *(["-threads", "1"] if avi else []), "-f", "image2",
                  self.dir / "frames" / "%06d.jpg")
        self._run("-i", vfile, "-ac", "1", "-vn", "-acodec", "pcm_s16le", "-ar", 16000, self.dir / "audio.wav")
        frames = self._jpegs(self.dir / "frames")
        shutil.rmtree(self.dir / "frames")
        cap = cv2.VideoCapture(str(vfile))  # PySceneDetect reads the re-encoded file with OpenCV
        cuts = ContentCuts(bgr=True)
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            cuts.feed(frame[None])
        cap.release()
        self._audio = self._wav(self.dir / "audio.wav")
        return frames, cuts.scenes(), self._audio

    def track(self, crops_bgr: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """One track's crops as ``evaluate`` reads them: ``(BGR frames, int16 audio)``."""
        mp4 = self.crop_file == "mp4v-mp4-aac"
        fourcc, ext = ("mp4v", ".mp4") if mp4 else ("XVID", ".avi")
        crop = self.dir / f"{self._n:05d}"
        self._n += 1
        tfile = Path(str(crop) + "t" + ext)
        h, w = crops_bgr.shape[1:3]
        vw = cv2.VideoWriter(str(tfile), cv2.VideoWriter_fourcc(*fourcc), self.fps, (w, h))
        if not vw.isOpened():
            raise RuntimeError(f"OpenCV cannot write {fourcc} here (built without FFmpeg?)")
        for f in crops_bgr:
            vw.write(np.ascontiguousarray(f))
        vw.release()
        tmp = self.dir / "evaluate"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.shortcuts and not mp4 and self.fps == PIPELINE_FPS and self._audio is not None:
            # `-ss f0/25 -to (f1+1)/25` of a 16 kHz PCM WAV, copied into the .avi and decoded
            # to PCM again: the WAV's samples [640·f0, 640·(f1+1)) (checked in the tests)
            self._run("-i", tfile, "-threads", "1", "-f", "image2", tmp / "%06d.jpg")
            frames = self._jpegs(tmp)
            shutil.rmtree(tmp)
            tfile.unlink()
            return frames, self._audio[first * 640:(last + 1) * 640]
        cut = self.dir / "audiotmp.wav"
        self._run("-i", self.dir / "audio.wav", "-ss", "%.3f" % (first / self.fps), "-to",
                  "%.3f" % ((last + 1) / self.fps), cut)
        out = Path(str(crop) + ext)
        self._run("-i", tfile, "-i", cut, "-c:v", "copy", "-c:a", "aac" if mp4 else "copy", out)
        tfile.unlink()
        self._run("-i", out, *([] if mp4 else ["-threads", "1"]), "-f", "image2", tmp / "%06d.jpg")
        self._run("-i", out, "-async", "1", "-ac", "1", "-vn", "-acodec", "pcm_s16le", "-ar", 16000,
                  tmp / "audio.wav")
        frames, audio = self._jpegs(tmp), self._wav(tmp / "audio.wav")
        shutil.rmtree(tmp)
        out.unlink()
        return frames, audio
