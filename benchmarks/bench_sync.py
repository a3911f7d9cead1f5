"""LSE-D / LSE-C on the CPU: thgeval against syncnet_python's evaluation, same clip, same weights.

The reference runs as its scripts run it (``SyncNetInstance.evaluate`` of syncnet-python
0.2.3, the joonson/syncnet_python code on a device argument): frames dumped as JPEG files
with FFmpeg's default MJPEG settings (made here with the libavcodec encoder thgeval links,
through PyAV, so both sides see the same JPEG frames; ``--reference-ffmpeg`` runs the script's
own ``ffmpeg`` commands instead, whose FFmpeg may code the JPEGs differently), audio as a 16 kHz
int16 WAV, then ``evaluate`` reads the files, builds the 5-frame windows and runs the network
in batches of 20. thgeval decodes the clip, makes the same JPEG round trip in memory, reads
the audio alone (FFmpeg's ``pcm_s16le``, as the metric does) and runs its fused network on
the same frames. Both start from the video file; both use the same random
weights in the released file format. Needs ``pip install --no-deps syncnet-python==0.2.3``
and ``../shared/media``.

    PYTHONPATH=src python benchmarks/bench_sync.py [--frames 150] [--device cpu] [--reference-ffmpeg]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import tempfile
import time
import types
from pathlib import Path

import cv2
import numpy as np

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def _ref_module(name: str):
    spec = importlib.util.find_spec("syncnet_python")
    if spec is None:
        raise SystemExit("install the reference: pip install --no-deps syncnet-python==0.2.3")
    path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.py"
    s = importlib.util.spec_from_file_location(f"_ref_{name}", path)
    m = importlib.util.module_from_spec(s)
    s.loader.exec_module(m)
    return m


def _trimmed(src: Path, n: int, work: Path) -> Path:
    """The first n frames (and their audio) of src as a lossless clip: the benchmark input."""
    from thgeval.io import load_clip, write_clip

    c = load_clip(src)
    return write_clip(work / "input.mp4", c.frames[:n], c.fps, audio=c.audio[: n * 640], lossless=True)


def run_reference(clip: Path, weights: Path, work: Path, device: str, use_cli: bool = False):
    import av
    from scipy.io import wavfile

    from thgeval.io import load_audio_pcm16
    from thgeval.io.jpeg import _encoder

    model, inst_mod = _ref_module("SyncNetModel"), _ref_module("SyncNetInstance")
    t0 = time.perf_counter()
    tmp = work / "ref"
    tmp.mkdir()
    exe = shutil.which("ffmpeg") if use_cli else None
    if exe:  # the script's own two commands (SyncNetInstance.evaluate of the repository)
        subprocess.run([exe, "-y", "-loglevel", "error", "-i", str(clip), "-threads", "1", "-f", "image2",
                        str(tmp / "%06d.jpg")], check=True)
        subprocess.run([exe, "-y", "-loglevel", "error", "-i", str(clip), "-async", "1", "-ac", "1", "-vn",
                        "-acodec", "pcm_s16le", "-ar", "16000", str(tmp / "audio.wav")], check=True)
    else:  # the same files through PyAV's libavcodec, the one thgeval links (equal numbers)
        with av.open(str(clip)) as c:
            enc = None
            for i, vf in enumerate(c.decode(video=0)):
                enc = enc or _encoder(vf.width, vf.height, 25)
                yf = vf.reformat(format="yuvj420p")
                yf.color_range, yf.pict_type, yf.time_base, yf.pts = 2, av.video.frame.PictureType.NONE, enc.time_base, i
                for p in enc.encode(yf):
                    (tmp / f"{len(list(tmp.glob('*.jpg'))) + 1:06d}.jpg").write_bytes(bytes(p))
            for p in enc.encode(None):
                (tmp / f"{len(list(tmp.glob('*.jpg'))) + 1:06d}.jpg").write_bytes(bytes(p))
        wavfile.write(tmp / "audio.wav", 16000, load_audio_pcm16(clip))
    inst = inst_mod.SyncNetInstance(model.S(), device=device)
    inst.loadParameters(str(weights))
    opt = types.SimpleNamespace(tmp_dir=str(tmp), batch_size=20, vshift=15)
    offset, conf, dist = inst.evaluate(opt)
    return time.perf_counter() - t0, (offset, conf, dist)


def run_ours(clip: Path, weights: Path, device: str):
    from thgeval.io import load_audio_pcm16
    from thgeval.io.jpeg import ffmpeg_jpeg_frames
    from thgeval.metrics.lse import score_arrays
    from thgeval.nets.syncnet import SyncNetEmbedder

    t0 = time.perf_counter()
    frames = ffmpeg_jpeg_frames(clip)  # the frame dump's JPEG round trip, in memory
    audio = load_audio_pcm16(clip)  # what the metric reads: FFmpeg's pcm_s16le, audio only
    emb = SyncNetEmbedder(weights, device=device)
    r = score_arrays(emb, frames, audio.astype(np.float64))
    return time.perf_counter() - t0, (r.offset, r.lse_c, r.lse_d)


def main(argv=None) -> list[dict]:
    import contextlib
    import io

    import torch

    from thgeval.nets.syncnet import random_state_dict, save_state_dict

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--reference-ffmpeg", action="store_true",
                    help="make the reference's JPEG frames and WAV with the ffmpeg CLI, as its script does (its "
                         "MJPEG then differs from PyAV's libavcodec, so the numbers are close, not equal)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        weights = save_state_dict(random_state_dict(0), work / "syncnet_v2.model")
        clip = _trimmed(MEDIA / "syncnet" / "example.avi", args.frames, work)
        with contextlib.redirect_stdout(io.StringIO()):  # the reference prints per-frame confidences
            t_ref, ref = run_reference(clip, weights, work, args.device, args.reference_ffmpeg)
        t_our, our = run_ours(clip, weights, args.device)
    row = {"clip": f"example.avi, first {args.frames} frames (224², 25 fps)", "threads": torch.get_num_threads(),
           "device": args.device, "reference_s": t_ref, "thgeval_s": t_our, "speedup": t_ref / t_our,
           "offset": (ref[0], our[0]), "lse_c": (ref[1], our[1]), "lse_d": (ref[2], our[2]),
           "max_abs_diff": max(abs(ref[1] - our[1]), abs(ref[2] - our[2]))}
    print(f"{row['clip']}, {row['threads']} threads, {row['device']}: reference {t_ref:.2f} s, thgeval {t_our:.2f} s "
          f"({row['speedup']:.2f}×); offset {ref[0]} / {our[0]}, LSE-C {ref[1]:.6f} / {our[1]:.6f}, "
          f"LSE-D {ref[2]:.6f} / {our[2]:.6f} (max |Δ| {row['max_abs_diff']:.1e})")
    return [row]


if __name__ == "__main__":
    main()
