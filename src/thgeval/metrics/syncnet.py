"""Lip-sync metrics on a Sample: LSE-D, LSE-C and AV offset from one shared SyncNet pass, and
the weight-free sync offset and confidence (:mod:`thgeval.metrics.avsync`).

The front end (which frames, which crop, which rate, which lossy steps) is the variant; the
scoring is always :func:`thgeval.metrics.lse.sync_scores`. Variants:

- ``thgeval`` (default): crops of thgeval's face track with the reference geometry
  (``run_pipeline.py``: median filter 13 over box size and centre, crop scale 0.4, grey
  padding, 224×224 bilinear), video resampled to 25 fps by timestamps, no lossy
  intermediate encode, tracks longer than 50 frames (the reference's 100 would skip GRID's
  75-frame clips).
- ``pipeline-track``: the same crops with the reference's other choices: ``min_track``
  100 and the FFmpeg-default JPEG round trip that its ``ffmpeg -f image2`` frame dump adds
  (S3FD detection and the XVID encode of the crops are not reproduced).
- ``syncnet-pipeline``: syncnet_python's ``run_pipeline.py`` + ``run_syncnet.py`` as a whole
  (:mod:`thgeval.metrics.sync_pipeline`): MPEG-4 and JPEG at quantiser 2, S3FD at scale
  0.25, IoU tracks longer than 100 frames with faces over 100 px, XVID crops, one score per
  track; the clip's value is the mean over its tracks.
- ``latentsync``: bytedance/LatentSync ``eval/eval_sync_conf.py``: the same pipeline with
  its files (``video.mp4``: libx264 + AAC; crops as ``mp4v`` ``.mp4`` with AAC audio), tracks
  longer than 50 frames, offset ``int(fmean)`` over tracks; a clip without a track is skipped.
  Both pipeline variants make their lossy files with the reference's own ``ffmpeg`` commands
  where an ``ffmpeg`` executable is on PATH and with PyAV otherwise (``encoder="auto"``,
  resolved at run time: the row's notes, ``extra["front_end"]`` and key record which).
- ``wav2lip-lrs``: Wav2Lip's ``calculate_scores_LRS.py``: no face detection, each whole
  frame after FFmpeg's default JPEG round trip resized to 224×224 (bilinear), native frame
  rate, unweighted mean over videos.

Every variant scores the audio the reference scripts read: the int16 WAV of ``ffmpeg -ac 1
-ar 16000 -acodec pcm_s16le`` (:func:`thgeval.io.load_audio_pcm16`).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from statistics import fmean
from pathlib import Path

import numpy as np

from ..errors import MetricSkipped
from .lse import SAMPLES_PER_FRAME, VSHIFT, SyncScores, score_arrays
from .registry import MEAN_OF_CLIP_MEANS, ClipValue, Metric, Variant, register
from .sample import PRED

SYNCNET_FPS = 25.0

_COMMON = dict(crop_scale=0.4, median_kernel=13, vshift=VSHIFT)
VARIANTS = {
    "thgeval": Variant(
        "thgeval", dict(front_end="track", fps=SYNCNET_FPS, min_track=50, jpeg=None, **_COMMON),
        reference="SyncNet (Chung & Zisserman 2016) scored as joonson/syncnet_python SyncNetInstance.evaluate "
                  "on 224² crops of thgeval's face track with run_pipeline.py's geometry, 25 fps",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="crop: median-13 box, crop scale 0.4, grey 110 pad; video resampled to 25 fps; no JPEG/XVID "
              "round trip; min_track 50 frames; one score per clip (one face track)",
    ),
    "pipeline-track": Variant(
        "pipeline-track", dict(front_end="track", fps=SYNCNET_FPS, min_track=100, jpeg="ffmpeg", **_COMMON),
        reference="joonson/syncnet_python run_pipeline.py + run_syncnet.py crop geometry, min_track 100 and "
                  "FFmpeg-default JPEG frame dump, on thgeval's face track (not S3FD; no XVID encode)",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="clips of 100 frames or fewer are skipped, as the reference pipeline drops their tracks",
    ),
    "syncnet-pipeline": Variant(
        "syncnet-pipeline", dict(front_end="track", detector="s3fd", fps=SYNCNET_FPS, min_track=100, min_face=100,
                                 max_gap=25, det_scale=0.25, det_conf=0.9, jpeg="pipeline", encoder="auto", **_COMMON),
        reference="joonson/syncnet_python run_pipeline.py + run_syncnet.py (commit 6efbb1c): 25 fps MPEG-4 q2 "
                  "re-encode and q2 JPEG frames, S3FD (scale 0.25, conf 0.9, NMS 0.1), IoU tracker, crops "
                  "written as XVID and dumped as default JPEG, one score per track",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="clip value = mean over its face tracks (tracks > 100 frames, mean face > 100 px; none: skipped); "
              "encoder='auto': where an ffmpeg executable is on PATH the reference's seven ffmpeg commands run "
              "as they are (scratch files) and OpenCV writes the XVID crops, so the numbers are the reference's "
              "with that ffmpeg (golden: run_pipeline.py + run_syncnet.py with FFmpeg 5.1, random weights, "
              "example.avi: same 4 tracks, per track within 1e-6); the row records which ffmpeg; without one, "
              "PyAV's libavcodec re-makes the files (MP3 audio bit-exact, 2-frame .avi shift reproduced; MPEG-4 "
              "P-frames differ from the 5.1 CLI's: tracks within 5e-3, track sets can differ); faces are "
              "tracked within PySceneDetect 0.5 ContentDetector scenes (thgeval.io.scenes, on the frames OpenCV "
              "reads from video.avi; on the PyAV path, on the dumped frames)",
        weights=("s3fd",),
    ),
    "latentsync": Variant(
        "latentsync", dict(front_end="track", detector="s3fd", fps=SYNCNET_FPS, min_track=50, min_face=100,
                           max_gap=25, det_scale=0.25, det_conf=0.9, jpeg="pipeline", reencode="h264-mp4",
                           crop_file="mp4v-mp4-aac", track_offset="int-mean", encoder="auto", **_COMMON),
        reference="bytedance/LatentSync eval/eval_sync_conf.py + syncnet_detect.py + syncnet/syncnet_eval.py "
                  "(commit a229c39): 25 fps re-encode to video.mp4 (libx264 CRF 23, AAC) and q2 JPEG frames, "
                  "audio.wav from its AAC, S3FD, IoU tracks > 50 frames, crops written as mp4v .mp4 muxed "
                  "with AAC audio, one score per track; per video conf = fmean, offset = int(fmean)",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="clip value = mean over its face tracks (tracks > 50 frames, mean face > 100 px; none: skipped, as "
              "LatentSync drops the video from its mean); av_offset = int(fmean(track offsets)) (truncated); "
              "LSE-D (LatentSync reports none) the mean of the tracks' min distances; encoder='auto': where an "
              "ffmpeg executable is on PATH LatentSync's ffmpeg commands run as they are and OpenCV writes the "
              "mp4v crops (golden: eval_sync_conf.py with FFmpeg 5.1, random weights, example.avi: same 6 "
              "tracks, per track within 1e-6; libx264's output depends on its thread count, which the CLI "
              "takes from the machine's cores); the row records which ffmpeg; without one, PyAV's libavcodec "
              "re-makes the files (libx264 with 3 frame threads bit-exact; its native AAC differs from 5.1's "
              "after 41 packets and its q2 JPEG dump by up to 10 levels, so S3FD's boxes and the track set "
              "differ); faces are tracked within PySceneDetect 0.5 ContentDetector scenes, as syncnet_detect.py "
              "does",
        weights=("s3fd",),
    ),
    "wav2lip-lrs": Variant(
        "wav2lip-lrs", dict(front_end="whole-frame", fps=None, min_track=0, jpeg="ffmpeg", encoder="auto",
                            **_COMMON),
        reference="Rudrabha/Wav2Lip evaluation/scores_LSE/calculate_scores_LRS.py: whole frame to 224² "
                  "(cv2 bilinear) after ffmpeg's default JPEG dump, native fps, mean over videos",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="no face detection: meant for face-cropped clips (LRS2/LRS3/LRW); no fps resampling; "
              "encoder='auto': where an ffmpeg executable is on PATH the script's two ffmpeg commands run as "
              "they are (JPEG frame dump, pcm_s16le WAV), so the numbers are the script's with that ffmpeg "
              "(golden: calculate_scores_LRS.py with FFmpeg 5.1, random weights, demo and GRID clips, within "
              "1e-6); without one PyAV's libavcodec makes the same files (golden with a PyAV stand-in for the "
              "CLI, within 1e-6; FFmpeg 5.1's MJPEG moves LSE-D by up to 9e-4 on these clips)",
    ),
}


@lru_cache(maxsize=2)  # loading the 50 MB model per clip would dominate short clips
def _embedder(path: str, stamp: tuple, device: str, batch_size: int):
    from ..nets.syncnet import SyncNetEmbedder

    return SyncNetEmbedder(path, device=device, batch_size=batch_size)


def embedder_for(path: Path, device: str = "cpu", batch_size: int | None = None):
    st = Path(path).stat()
    return _embedder(str(path), (st.st_size, st.st_mtime_ns), device, int(batch_size or 32))


def syncnet_frames(sample, side: str, *, front_end: str, fps: float | None, crop_scale: float,
                   median_kernel: int, min_track: int, jpeg: str | None, **_) -> tuple[np.ndarray, list[str]]:
    """The 224×224 BGR uint8 frames SyncNet sees for one side of a sample, and notes."""
    from ..io.jpeg import ffmpeg_jpeg_frames, jpeg_roundtrip
    from .sync_crops import crop_faces, crop_track, fill_boxes, whole_frames

    notes: list[str] = []
    path = sample.path(side)
    native_fps = sample.info(side).fps
    if fps is None and abs(native_fps - SYNCNET_FPS) > 1e-3:
        notes.append(f"SyncNet assumes 25 fps; scored at the clip's {native_fps:g} fps as the reference does")
    if front_end == "whole-frame" and fps is None and jpeg == "ffmpeg":
        bgr = whole_frames(ffmpeg_jpeg_frames(path))  # the reference's exact JPEG bytes, then resize
    else:
        resample = fps is not None and abs(native_fps - fps) > 1e-3
        dec = sample.media.decoded(path, fps if resample else None)
        if resample:
            notes.append(f"video resampled from {native_fps:g} to {fps:g} fps for SyncNet")
        if front_end == "track":
            face = _face(sample, side)
            valid = np.asarray(face.valid, dtype=bool)
            boxes = fill_boxes(face.boxes, valid)
            missing = int((~valid).sum())
            if missing:
                notes.append(f"{missing} of {len(valid)} frames without a face: box interpolated")
            track = crop_track(boxes, median_kernel)
            crops = crop_faces(dec.frames, track, crop_scale, index=dec.source_index)
            bgr = jpeg_roundtrip(crops, fps or native_fps) if jpeg == "ffmpeg" else crops[..., ::-1]
        elif front_end == "whole-frame":
            frames = dec.frames
            bgr = whole_frames(jpeg_roundtrip(frames, fps or native_fps) if jpeg == "ffmpeg" else frames[..., ::-1])
        else:
            raise ValueError(f"front_end must be 'track' or 'whole-frame'; got {front_end!r}")
    if min_track and len(bgr) <= min_track:
        raise MetricSkipped(
            f"{len(bgr)} frames: SyncNet tracks must be longer than min_track={min_track} frames in this variant"
        )
    return np.ascontiguousarray(bgr), notes


def _face(sample, side):
    try:
        return sample.face(side)
    except ImportError as e:  # the face layer is an optional part of the install
        raise MetricSkipped(f"no face analyser available ({e}); SyncNet's crop needs a face track") from None


def syncnet_pass(sample, side: str = PRED, **params) -> SyncScores:
    """SyncNet scores of one side of a sample, computed once for LSE-D, LSE-C and the offset."""
    key = ("syncnet", side) + tuple(sorted(params.items()))
    return sample.memo(key, lambda: _compute(sample, side, params))


def _compute(sample, side: str, params: dict) -> SyncScores:
    from ..weights import locate
    if importlib.util.find_spec("torch") is None:
        raise MetricSkipped("SyncNet needs PyTorch: pip install 'thgeval[deep]'")
    wpath = locate("syncnet_v2")
    if side == PRED:
        apath, note = sample.driving_audio_path()
    else:
        apath, note = sample.path(side), ""
    # The reference scripts score the int16 WAV that `ffmpeg -ac 1 -ar 16000 pcm_s16le`
    # writes; FFmpeg's integer down-mix and resampling differ from a float decode's.
    front_end = {}
    if params.get("detector") == "s3fd":  # run_pipeline.py: the audio of each track's crop file
        from .sync_pipeline import resolve_encoder
        front_end = {k: v for k, v in resolve_encoder(params.get("encoder", "auto")).items() if k != "exe"}
        segments, notes = s3fd_segments(sample, side, apath=apath, **{**params, "encoder": front_end["encoder"]})
    elif params.get("front_end") == "whole-frame" and _encoder(params)["encoder"] == "ffmpeg":
        # Wav2Lip's evaluate: its own two ffmpeg commands, so the JPEG frames are that ffmpeg's
        from .sync_crops import whole_frames
        from .sync_pipeline import describe_encoder, evaluate_inputs_cli

        res = _encoder(params)
        front_end = {k: v for k, v in res.items() if k != "exe"}
        frames, audio = evaluate_inputs_cli(res["exe"], sample.path(side),
                                            None if Path(apath) == Path(sample.path(side)) else apath)
        if not audio.size:
            raise MetricSkipped(f"the {side} clip has no audio")
        notes = [describe_encoder(res)]
        segments = [(whole_frames(frames), audio)]
    else:
        audio = sample.media.audio_pcm16(apath)
        if audio is None or not audio.size:
            raise MetricSkipped(f"the {side} clip has no audio")
        bgr, notes = syncnet_frames(sample, side, **params)
        if "encoder" in params:  # the ffmpeg CLI's files were asked for, but there is no ffmpeg here
            from .sync_pipeline import describe_encoder
            front_end = {k: v for k, v in _encoder(params).items() if k != "exe"}
            notes = [describe_encoder(front_end)] + notes
        segments = [(bgr, audio)]
    emb = embedder_for(wpath, sample.options.device, sample.options.batch_size)
    vshift = params.get("vshift", VSHIFT)
    per_track = [score_arrays(emb, bgr, a.astype(np.float64), vshift) for bgr, a, *_ in segments]
    res = _mean_over_tracks(per_track, params.get("track_offset", "longest"))
    if params.get("detector") == "s3fd":  # one score per face track, in the reference's order
        res.tracks = [{"first": int(seg[2][0]), "last": int(seg[2][-1]), "offset": int(r.offset),
                       "lse_d": float(r.lse_d), "lse_c": float(r.lse_c)} for seg, r in zip(segments, per_track)]
    res.notes = ([note] if note else []) + notes + res.notes
    res.front_end = front_end
    return res


def _encoder(params: dict) -> dict:
    """The variant's ``encoder`` resolved (:func:`.sync_pipeline.resolve_encoder`); variants
    without one use PyAV."""
    from .sync_pipeline import resolve_encoder

    return resolve_encoder(params.get("encoder", "pyav"))


def _mean_over_tracks(results: list[SyncScores], track_offset: str = "longest") -> SyncScores:
    """One clip result from one score per track: LSE-D and LSE-C the means over tracks (as
    run_syncnet.py's per-track scores are averaged by the papers that use them and by
    LatentSync's eval_sync_conf.py, ``statistics.fmean``); curve and windows are the longest
    track's. ``track_offset``: ``"longest"`` (the longest track's offset) or ``"int-mean"``
    (LatentSync: ``int(fmean(offsets))``, truncated toward zero)."""
    best = max(results, key=lambda r: r.n_windows)
    if len(results) == 1:
        return best
    out = SyncScores(**{**best.__dict__, "notes": list(best.notes)})
    out.lse_d = float(fmean([r.lse_d for r in results]))
    out.lse_c = float(fmean([r.lse_c for r in results]))
    offsets = [int(r.offset) for r in results]
    if track_offset == "int-mean":
        out.offset = int(fmean(offsets))
        how = "the offset int(mean) of theirs"
    elif track_offset == "longest":
        how = "curve and offset of the longest"
    else:
        raise ValueError(f"track_offset must be 'longest' or 'int-mean'; got {track_offset!r}")
    out.notes.append(f"{len(results)} face tracks: LSE-D/LSE-C are their means (offsets {offsets}; {how})")
    return out


@lru_cache(maxsize=1)
def _s3fd(path: str, stamp: tuple, device: str):
    from ..nets.s3fd import S3FD

    return S3FD(path, device=device)


def s3fd_segments(sample, side: str, *, fps: float, crop_scale: float, median_kernel: int, min_track: int,
                  min_face: float, max_gap: int, det_scale: float, det_conf: float, apath=None,
                  reencode: str = "mpeg4-avi", crop_file: str = "xvid-avi", encoder: str = "auto", **_):
    """Per face track of run_pipeline.py: (BGR crops as SyncNet reads them, int16 audio as it
    reads it, frame numbers), and notes. ``apath``: the file the audio comes from (default:
    the clip itself). ``encoder``: which makes the lossy files (:mod:`.sync_pipeline`)."""
    from .sync_crops import crop_faces, crop_track
    from .sync_pipeline import FfmpegFrontEnd, describe_encoder, resolve_encoder

    path = sample.path(side)
    apath = path if apath is None else apath
    res = resolve_encoder(encoder)
    notes = [describe_encoder(res)]
    if res["encoder"] == "ffmpeg":
        with FfmpegFrontEnd(res["exe"], path, apath, reencode, crop_file, int(round(fps))) as fe:
            from ..io.probe import open_container
            with open_container(apath) as c:  # the audio is ffmpeg's to decode: only check there is some
                if not c.streams.audio:
                    raise MetricSkipped(f"the {side} clip has no audio")
            frames, scenes, audio = fe.prepare()
            tracks = _s3fd_tracks(sample, frames, scenes, notes, min_track=min_track, max_gap=max_gap,
                                  min_face=min_face, det_scale=det_scale, det_conf=det_conf)
            segments = []
            for fi, boxes in tracks:
                crops = crop_faces(frames[fi], crop_track(boxes, median_kernel), crop_scale)
                segments.append((*fe.track(crops, int(fi[0]), int(fi[-1])), fi))
        return segments, notes

    from .sync_pipeline import aac_roundtrip, pipeline_audio, pipeline_frames, xvid_jpeg_roundtrip
    audio, shift = pipeline_audio(apath, reencode)  # video.avi's MP3 (or video.mp4's AAC)
    if audio is None or not audio.size:
        raise MetricSkipped(f"the {side} clip has no audio")
    native_fps = sample.info(side).fps
    resampled = None
    if abs(native_fps - fps) > 1e-3:  # `-r 25`: our timestamp resampling, then the encode
        resampled = sample.media.decoded(path, fps).frames
        notes.append(f"video resampled from {native_fps:g} to {fps:g} fps for SyncNet")
    frames = pipeline_frames(path, resampled, int(round(fps)), shift=shift, reencode=reencode)
    # PySceneDetect reads the frames OpenCV reads from video.avi: its packets, without the
    # `shift` copies the frame dump adds, so the last `shift` frames are never tracked. (Here
    # the cuts are found on the dumped JPEG frames, not on video.avi's own pictures.)
    from ..io.scenes import scene_ranges
    scenes = scene_ranges(frames[:len(frames) - shift], bgr=True)
    tracks = _s3fd_tracks(sample, frames, scenes, notes, min_track=min_track, max_gap=max_gap,
                          min_face=min_face, det_scale=det_scale, det_conf=det_conf)
    segments = []
    for fi, boxes in tracks:
        crops = crop_faces(frames[fi], crop_track(boxes, median_kernel), crop_scale)
        # a track's audio is the WAV cut to its frames (crop_video's `-ss f0/25 -to (f1+1)/25`)
        a = audio[fi[0] * SAMPLES_PER_FRAME:(fi[-1] + 1) * SAMPLES_PER_FRAME]
        if crop_file == "mp4v-mp4-aac":  # LatentSync: the cut muxed as AAC
            a = aac_roundtrip(a)
        segments.append((xvid_jpeg_roundtrip(crops, int(round(fps)), crop_file=crop_file), a, fi))
    return segments, notes


def _s3fd_tracks(sample, frames: np.ndarray, scenes: list, notes: list, *, min_track: int, max_gap: int,
                 min_face: float, det_scale: float, det_conf: float) -> list:
    """S3FD on every frame (BGR) of the scenes, then ``track_shot`` within each scene of at
    least ``min_track`` frames (``(first, end)`` ranges); track frame numbers are the clip's."""
    from ..weights import locate
    from .sync_pipeline import iou_tracks

    if len(scenes) > 1:
        notes.append(f"{len(scenes) - 1} scene cut(s) (PySceneDetect ContentDetector): faces tracked within "
                     "each scene")
    long = [(a, b) for a, b in scenes if b - a >= min_track]
    if not long:
        raise MetricSkipped(f"no scene of at least min_track={min_track} frames "
                            f"(scenes: {', '.join(str(b - a) for a, b in scenes)} frames): the reference "
                            "pipeline scores nothing for this clip")
    wpath = Path(locate("s3fd"))
    st = wpath.stat()
    det = _s3fd(str(wpath), (st.st_size, st.st_mtime_ns), sample.options.device)
    tracks = []
    for a, b in long:
        dets = [det.detect(np.ascontiguousarray(f[..., ::-1]), conf_th=det_conf, scale=det_scale) for f in frames[a:b]]
        tracks += [(fi + a, boxes) for fi, boxes in iou_tracks(dets, min_track=min_track, max_gap=max_gap,
                                                                min_face=min_face)]
    if not tracks:
        raise MetricSkipped(f"no S3FD face track longer than {min_track} frames with a mean face side over "
                            f"{min_face:g} px: the reference pipeline scores nothing for this clip")
    return tracks


def _extra(r: SyncScores) -> dict:
    out = {"offset": r.offset, "curve": [round(float(v), 6) for v in r.curve],
           "shifts": [int(s) for s in r.shifts()], "n_windows": r.n_windows}
    if r.front_end:  # which made the lossy files (encoder="auto" resolved at run time)
        out["front_end"] = dict(r.front_end)
    if r.tracks:
        out["tracks"] = [dict(t) for t in r.tracks]
    return out


def _lse_d(sample, **p) -> ClipValue:
    r = syncnet_pass(sample, **p)
    best = r.vshift - r.offset
    return ClipValue(r.lse_d, r.n_windows, series=r.dists[:, best], notes=list(r.notes), extra=_extra(r))


def _lse_c(sample, **p) -> ClipValue:
    r = syncnet_pass(sample, **p)
    return ClipValue(r.lse_c, r.n_windows, series=r.frame_conf, notes=list(r.notes), extra=_extra(r))


def _av_offset(sample, **p) -> ClipValue:
    r = syncnet_pass(sample, **p)
    return ClipValue(float(r.offset), r.n_windows, notes=list(r.notes), extra=_extra(r))


def _runtime(encoder: str | None = None, **_) -> dict:
    """``encoder="auto"`` resolved here (the pipeline variants): which tool, which version."""
    if encoder is None:
        return {}
    from .sync_pipeline import resolve_encoder

    return {k: v for k, v in resolve_encoder(encoder).items() if k != "exe"}


# version 2: the pipeline variants run the reference's ffmpeg commands where ffmpeg is on PATH
_SHARED = dict(needs=frozenset({"audio", "face"}), variants=VARIANTS, default_variant="thgeval", version="2",
               kind="clip", weights=("syncnet_v2",), requires_modules=("torch",), family="sync",
               runtime_fn=_runtime)

register(Metric(
    name="lse_d", title="LSE-D", higher_is_better=False, clip_fn=_lse_d, unit="", value_range="≥ 0",
    aliases=("sync_d", "sync-d", "lse-d"),
    description="SyncNet distance between lip and audio embeddings at the best of ±15 frame shifts "
                "(mean over 5-frame windows), Prajwal et al. 2020", **_SHARED))
register(Metric(
    name="lse_c", title="LSE-C", higher_is_better=True, clip_fn=_lse_c, unit="", value_range="≥ 0",
    aliases=("sync_c", "sync-c", "lse-c"),
    description="SyncNet confidence: median minus minimum of the mean distance over ±15 frame shifts", **_SHARED))
register(Metric(
    name="av_offset", title="AV offset", higher_is_better=False, clip_fn=_av_offset, unit="frames",
    value_range="−15…15", aliases=("av-offset", "syncnet_offset"),
    description="shift (video frames at 25 fps) at SyncNet's minimum distance; 0 = in sync, positive = the audio "
                "leads the video (reference sign: syncnet_python's demo clip gives +3)", **_SHARED))


# --- weight-free sync (thgeval.metrics.avsync) on the same Samples ---------------------------

def avsync_pass(sample, side: str = PRED, max_lag: int = 15):
    """The weight-free sync of one side of a sample (landmarks of its native frames), memoised."""
    from .avsync import av_sync

    def compute():
        if side == PRED:
            audio, note = sample.driving_audio()
        else:
            audio, note = sample.audio(side), ""
            if audio is None or not audio.size:
                raise MetricSkipped(f"the {side} clip has no audio")
        face = _face(sample, side)
        res = av_sync(face.landmarks, face.valid, audio, sample.info(side).fps, max_lag=max_lag)
        if note:
            res.notes.insert(0, note)
        return res

    return sample.memo(("avsync", side, max_lag), compute)


def _avsync_extra(r) -> dict:
    return {"offset": r.offset, "confidence": round(r.confidence, 4),
            "curve": [round(float(v), 6) for v in r.curve], "shifts": [int(o) for o in r.offsets]}


def _sync_offset(sample, **p) -> ClipValue:
    r = avsync_pass(sample, **p)
    return ClipValue(float(r.offset), len(r.mouth_open), notes=list(r.notes), extra=_avsync_extra(r))


def _sync_conf(sample, **p) -> ClipValue:
    r = avsync_pass(sample, **p)
    return ClipValue(r.confidence, len(r.mouth_open), series=r.frame_agreement, notes=list(r.notes),
                     extra=_avsync_extra(r))


_AV_VARIANTS = {"facesync": Variant(
    "facesync", {"max_lag": 15},
    reference="FaceSync-style (Slaney & Covell 2000) lag correlation of lip-opening velocity (68 landmarks) "
              "with band log-energy velocity; thgeval's own method, no weights",
    notes="offset in SyncNet's sign convention (positive: audio leads); confidence < 3 means uncertain")}
_AV_SHARED = dict(needs=frozenset({"audio", "face"}), variants=_AV_VARIANTS, default_variant="facesync",
                  version="1", kind="clip", family="sync")

register(Metric(
    name="sync_offset", title="Sync offset (weight-free)", higher_is_better=False, clip_fn=_sync_offset,
    unit="frames", value_range="−15…15",
    description="audio-visual offset from mouth-landmark motion vs audio energy over ±15 frames; "
                "positive = audio leads (SyncNet's convention)", **_AV_SHARED))
register(Metric(
    name="sync_conf", title="Sync confidence (weight-free)", higher_is_better=True, clip_fn=_sync_conf,
    unit="", value_range="≥ 0 (< 3: uncertain)",
    description="peak of the weight-free sync curve above its median in robust standard deviations", **_AV_SHARED))
