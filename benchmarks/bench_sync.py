"""LSE-D / LSE-C on the CPU: thgeval against syncnet_python's evaluation, same clip, same weights.

The reference runs as its scripts run it (``SyncNetInstance.evaluate`` of syncnet-python
0.2.3, the joonson/syncnet_python code on a device argument): frames dumped as JPEG files
with FFmpeg's default MJPEG settings (made here with the same libavcodec encoder through
PyAV, as no ``ffmpeg`` binary is assumed), audio as a 16 kHz int16 WAV, then ``evaluate``
reads the files, builds the 5-frame windows and runs the network in batches of 20.
thgeval decodes the clip, makes the same JPEG round trip in memory, and runs its fused
network on the same frames. Both start from the video file; both use the same random
weights in the released file format. Needs ``pip install --no-deps syncnet-python==0.2.3``
and ``../shared/media``.

    PYTHONPATH=src python benchmarks/bench_sync.py [--frames 150] [--device cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
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


def run_reference(clip: Path, weights: Path, work: Path, device: str):
    import av
    from scipy.io import wavfile

    from thgeval.io.jpeg import _encoder
    from thgeval.io import load_clip
    from thgeval.metrics.audio_features import to_int16_scale

    model, inst_mod = _ref_module("SyncNetModel"), _ref_module("SyncNetInstance")
    t0 = time.perf_counter()
    tmp = work / "ref"
    tmp.mkdir()
    # step 1 of the script: ffmpeg -i clip -f image2 %06d.jpg (default MJPEG settings)
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
    # step 2: ffmpeg -i clip -ac 1 -ar 16000 pcm_s16le audio.wav
    wavfile.write(tmp / "audio.wav", 16000, to_int16_scale(load_clip(clip).audio).astype(np.int16))
    inst = inst_mod.SyncNetInstance(model.S(), device=device)
    inst.loadParameters(str(weights))
    opt = types.SimpleNamespace(tmp_dir=str(tmp), batch_size=20, vshift=15)
    offset, conf, dist = inst.evaluate(opt)
    return time.perf_counter() - t0, (offset, conf, dist)


def run_ours(clip: Path, weights: Path, device: str):
    from thgeval.io import load_clip
    from thgeval.io.jpeg import ffmpeg_jpeg_frames
    from thgeval.metrics.audio_features import to_int16_scale
    from thgeval.metrics.lse import score_arrays
    from thgeval.nets.syncnet import SyncNetEmbedder

    t0 = time.perf_counter()
    frames = ffmpeg_jpeg_frames(clip)
    audio = load_clip(clip).audio
    emb = SyncNetEmbedder(weights, device=device)
    r = score_arrays(emb, frames, to_int16_scale(audio))
    return time.perf_counter() - t0, (r.offset, r.lse_c, r.lse_d)


def main(argv=None) -> list[dict]:
    import contextlib
    import io

    import torch

    from thgeval.nets.syncnet import random_state_dict, save_state_dict

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        weights = save_state_dict(random_state_dict(0), work / "syncnet_v2.model")
        clip = _trimmed(MEDIA / "syncnet" / "example.avi", args.frames, work)
        with contextlib.redirect_stdout(io.StringIO()):  # the reference prints per-frame confidences
            t_ref, ref = run_reference(clip, weights, work, args.device)
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
