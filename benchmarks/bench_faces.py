"""Face analysis throughput (box + 68 landmarks), cache, embeddings, against the usual
per-frame dlib pipeline on the same frames in the same run.

    PYTHONPATH=src python benchmarks/bench_faces.py

Reference: what THG evaluation scripts (LMD, face_recognition) run per frame: dlib's HOG
detector with one upsampling (``detector(img, 1)``, face_recognition's default) and the
68-point shape predictor on its first box. Ours: the default :class:`FaceSettings` (full
scan every 5th frame, region-of-interest scans between) and per-frame full scans
(``detect_every=1``). Clips: the 11 GRID clips (360×288, 825 frames) of ../shared/media,
decoded once beforehand (decoding is timed apart).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from thgeval.face import FaceSettings, analyze_clip, analyze_frames, embed_faces
from thgeval.face import models
from thgeval.face.batch import analyze_clips
from thgeval.io import load_clip

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def _reference(frames: np.ndarray) -> np.ndarray:
    det, sp = models.hog_detector(), models.shape_predictor()
    out = np.full((len(frames), 68, 2), np.nan, np.float32)
    for t, f in enumerate(frames):
        rects = det(f, 1)
        if len(rects):
            out[t] = [(p.x, p.y) for p in sp(f, rects[0]).parts()]
    return out


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    r = fn(*args, **kwargs)
    return time.perf_counter() - t, r


def _cpu(fn, *args, **kwargs):
    """(wall seconds, CPU seconds of this process, result): on a shared machine CPU time
    says what one idle core would do."""
    c, t = time.process_time(), time.perf_counter()
    r = fn(*args, **kwargs)
    return time.perf_counter() - t, time.process_time() - c, r


def _gil_ratio(frames: np.ndarray) -> float:
    """Throughput of two threads running HOG detection, relative to one thread."""
    det = models.hog_detector()
    work = lambda fs: [det(f, 0) for f in fs]  # noqa: E731
    one, _ = _timed(work, frames)
    ths = [threading.Thread(target=work, args=(frames,)) for _ in range(2)]
    t = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return 2 * one / (time.perf_counter() - t)


def run() -> dict:
    clips = sorted((MEDIA / "grid").glob("*.mpg"))
    t_dec, c_dec, decoded = _cpu(lambda: [load_clip(p, audio=False).frames for p in clips])
    n = sum(len(f) for f in decoded)
    models.hog_detector(), models.shape_predictor(), models.resnet_embedder()  # loading not timed
    res = {"clips": len(clips), "frames": n, "decode_fps": (n / t_dec, n / c_dec)}
    t_ref, c_ref, ref = _cpu(lambda: [_reference(f) for f in decoded])
    res["reference_fps"] = (n / t_ref, n / c_ref)
    for k in (1, 5):
        t, c, tracks = _cpu(lambda: [analyze_frames(f, FaceSettings(detect_every=k)) for f in decoded])
        res[f"ours_k{k}_fps"] = (n / t, n / c)
        d = [np.linalg.norm(tr.landmarks - r, axis=-1).mean(1) for tr, r in zip(tracks, ref)]
        d = np.concatenate(d)
        res[f"ours_k{k}_vs_ref_px"] = float(np.nanmean(d))
    with tempfile.TemporaryDirectory() as tmp:
        # whole pipeline from the files, both cores: decode + analyse + cache write
        t_pool, _ = _timed(analyze_clips, clips, cache_dir=tmp, workers=2)
        res["pool2_fps"] = n / t_pool
        t_one, c_one, _ = _cpu(lambda: [analyze_clip(p, cache_dir=Path(tmp) / "one") for p in clips])
        res["file_1proc_fps"] = (n / t_one, n / c_one)
        t_hit, _ = _timed(lambda: [analyze_clip(p, cache_dir=Path(tmp) / "one") for p in clips])
        res["cached_s"], res["first_s"] = t_hit, t_one
    frames, tr = decoded[0], analyze_frames(decoded[0])
    idx = np.arange(16)
    _, t1, _ = _cpu(lambda: [embed_faces(frames, tr, [i]) for i in idx])
    _, t16, _ = _cpu(embed_faces, frames, tr, idx)
    res["embed_ms_single"], res["embed_ms_batch16"] = t1 / 16 * 1000, t16 / 16 * 1000
    res["gil_2threads"] = _gil_ratio(decoded[0][:40])
    return res


def table(r: dict) -> str:
    def f(v):
        return f"{v[0]:.0f} | {v[1]:.0f}" if isinstance(v, tuple) else f"{v:.0f} | –"

    rows = [
        ("decode only (PyAV)", f(r["decode_fps"]), ""),
        ("reference: dlib HOG ×1 upsampling + 68 landmarks, every frame", f(r["reference_fps"]), "—"),
        ("ours, per-frame full scans (`detect_every=1`)", f(r["ours_k1_fps"]), f"{r['ours_k1_vs_ref_px']:.2f}"),
        ("ours, default (`detect_every=5`)", f(r["ours_k5_fps"]), f"{r['ours_k5_vs_ref_px']:.2f}"),
        ("ours from the files: decode + analyse + cache write", f(r["file_1proc_fps"]), ""),
        ("the same, 2 processes (`analyze_clips(workers=2)`, pool start and model loading included)",
         f(r["pool2_fps"]), ""),
    ]
    lines = ["| pipeline (GRID 360×288, 1 process unless said) | frames/s (wall) | frames per CPU-second | "
             "mean landmark distance to reference, px |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    k5, ref = r["ours_k5_fps"], r["reference_fps"]
    lines.append("")
    lines.append(f"Default analysis vs the reference pipeline in the same run: {k5[0] / ref[0]:.1f}× (wall), "
                 f"{k5[1] / ref[1]:.1f}× (CPU).")
    lines.append(f"Cached re-run of the {r['clips']} clips: {r['cached_s'] * 1000:.0f} ms against "
                 f"{r['first_s']:.2f} s for the first run ({r['first_s'] / r['cached_s']:.0f}× faster; "
                 "what is left is hashing each file).")
    lines.append(f"Identity embedding (dlib ResNet; dlib-bin is built without BLAS): {r['embed_ms_single']:.0f} CPU-ms "
                 f"per face one at a time, {r['embed_ms_batch16']:.0f} CPU-ms per face in batches of 16.")
    lines.append(f"Two threads running dlib's HOG detector: {r['gil_2threads']:.2f}× the throughput of one "
                 "(dlib holds the GIL), hence processes.")
    return "\n".join(lines)


if __name__ == "__main__":
    if not MEDIA.is_dir():
        sys.exit(f"needs the shared media at {MEDIA}")
    print(table(run()))
