"""Decoding, probing, resampling and writing clips."""

from __future__ import annotations

import av
import numpy as np
import pytest

import thgeval
from thgeval.errors import EmptyFileError, NotAVideoError, NoVideoStreamError, TruncatedClipError
from thgeval.io import ClipReader, load_clip, probe, write_clip

from conftest import moving_frames


def test_roundtrip_lossless(tmp_path, frames):
    p = write_clip(tmp_path / "a.mp4", frames, 25, lossless=True)
    clip = load_clip(p)
    assert clip.frames.shape == frames.shape and clip.frames.dtype == np.uint8
    assert clip.fps == 25
    # qp 0 in 4:4:4: only the RGB↔YUV rounding is left
    assert np.abs(clip.frames.astype(int) - frames).max() <= 3
    assert clip.audio is None and not clip.info.has_audio
    assert clip.info.frame_count == len(frames) and not clip.info.variable_frame_rate


def test_audio_is_mono_float32_16k(tmp_path, frames):
    sr = 44100
    t = np.arange(int(sr * len(frames) / 25)) / sr
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    p = write_clip(tmp_path / "a.mp4", frames, 25, audio=tone, sample_rate=sr)
    clip = load_clip(p)
    assert clip.sample_rate == 16000 and clip.audio.dtype == np.float32 and clip.audio.ndim == 1
    assert abs(len(clip.audio) / 16000 - len(frames) / 25) < 0.1
    spec = np.abs(np.fft.rfft(clip.audio[2000:10000]))
    assert abs(np.argmax(spec) * 16000 / 8000 - 440) < 5  # still a 440 Hz tone after resampling
    assert load_clip(p, audio=False).audio is None


def test_chunks_concatenate_to_whole_clip(tmp_path):
    f = moving_frames(50)
    p = write_clip(tmp_path / "a.mp4", f, 25, lossless=True)
    chunks = list(ClipReader(p).chunks(16))
    assert [len(c) for c in chunks] == [16, 16, 16, 2]
    assert np.array_equal(np.concatenate(chunks), load_clip(p).frames)


def test_resample_to_lower_and_higher_fps(tmp_path):
    f = moving_frames(30)
    p = write_clip(tmp_path / "a.mp4", f, 30, lossless=True)
    c25 = load_clip(p, fps=25)
    assert c25.fps == 25 and len(c25.frames) == 25  # 1 s of video
    ref = load_clip(p).frames
    # tick k at 25 fps shows the 30 fps frame nearest k/25 s (rounding half up)
    for k in range(25):
        assert np.array_equal(c25.frames[k], ref[int(np.floor(k * 30 / 25 + 0.5))])
    c60 = load_clip(p, fps=60)
    assert len(c60.frames) in (59, 60)
    assert np.array_equal(c60.frames[2], ref[1])


def _write_vfr(path, frames, pts_ms):
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv444p"
        s.codec_context.time_base = av.time_base and __import__("fractions").Fraction(1, 1000)
        s.time_base = __import__("fractions").Fraction(1, 1000)
        s.options = {"qp": "0"}
        for f, t in zip(frames, pts_ms):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = t
            vf.time_base = __import__("fractions").Fraction(1, 1000)
            for pk in s.encode(vf):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)


def test_variable_frame_rate_is_resampled_by_timestamps(tmp_path):
    f = moving_frames(6)
    p = tmp_path / "vfr.mp4"
    _write_vfr(p, f, [0, 40, 80, 200, 240, 280])  # a 120 ms hole after frame 2
    info = probe(p)
    assert info.variable_frame_rate
    clip = load_clip(p, fps=25)
    # ticks 0..7 at 40 ms: frame 2 fills the hole (ticks 2, 3, 4)
    src = load_clip(p, fps=None)
    assert len(clip.frames) == 8
    idx = [0, 1, 2, 2, 2, 3, 4, 5]
    for k, i in enumerate(idx):
        assert np.abs(clip.frames[k].astype(int) - f[i]).max() <= 3, k
    assert any("variable frame rate" in n for n in src.notes)


def test_empty_file(tmp_path):
    p = tmp_path / "a.mp4"
    p.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="empty file"):
        load_clip(p)


def test_not_a_video(tmp_path):
    p = tmp_path / "a.mp4"
    p.write_text("this is a text file, not a video\n" * 20)
    with pytest.raises(NotAVideoError, match="not a video"):
        probe(p)


def test_truncated_mp4_without_index(tmp_path, frames):
    p = write_clip(tmp_path / "a.mp4", frames, 25)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])  # the moov index sits at the end: gone
    with pytest.raises(TruncatedClipError, match="truncated"):
        load_clip(p)


@pytest.mark.parametrize("ext", ["mkv", "avi"])
def test_truncated_stream_with_index(tmp_path, ext):
    f = moving_frames(60)
    p = tmp_path / f"a.{ext}"
    write_clip(p, f, 25)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.4)])
    # The header still declares 60 frames (AVI) or 2.4 s (Matroska): a cut file, not a short clip.
    with pytest.raises(TruncatedClipError, match="truncated"):
        load_clip(p)


def test_no_video_stream(tmp_path):
    p = tmp_path / "a.mp4"
    with av.open(str(p), "w") as out:
        s = out.add_stream("aac", rate=16000)
        s.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="flt", layout="mono")
        af.sample_rate = 16000
        for pk in s.encode(af):
            out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    with pytest.raises(NoVideoStreamError, match="no video stream.*audio"):
        load_clip(p)


def test_grayscale_video_becomes_rgb(tmp_path, frames):
    p = tmp_path / "g.mkv"
    gray = frames.mean(axis=3).astype(np.uint8)
    with av.open(str(p), "w") as out:
        s = out.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = gray.shape[2], gray.shape[1], "gray"
        for g in gray:
            for pk in s.encode(av.VideoFrame.from_ndarray(g, format="gray")):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    clip = load_clip(p)
    assert clip.info.grayscale and clip.frames.shape == (*gray.shape, 3)
    assert np.array_equal(clip.frames[..., 0], gray) and np.array_equal(clip.frames[..., 2], gray)
    assert any("grayscale" in n for n in clip.notes)


def test_odd_size(tmp_path):
    f = moving_frames(10, h=63, w=81)
    p = write_clip(tmp_path / "odd.mp4", f, 25, lossless=True)
    clip = load_clip(p)
    assert clip.frames.shape == (10, 63, 81, 3) and probe(p).width == 81
    assert np.abs(clip.frames.astype(int) - f).max() <= 3


@pytest.mark.media
def test_real_media_facts(media):
    grid = load_clip(media / "grid" / "bbaf2n.mpg")
    assert grid.frames.shape == (75, 288, 360, 3) and grid.fps == 25
    assert abs(len(grid.audio) / 16000 - 2.98) < 0.05  # MP2 44.1 kHz stereo → 16 kHz mono
    sync = load_clip(media / "syncnet" / "example.avi")
    assert sync.frames.shape[0] == 317 and len(sync.audio) == 202880  # PCM 16 kHz kept sample-exact
    car = thgeval.probe(media / "carphone" / "pristine.mp4")
    assert car.frame_count == 120 and abs(car.fps - 30000 / 1001) < 1e-9 and not car.has_audio
