"""Whole-clip evaluation throughput (frames/s) against pure decoding of the same clips.

Real clips from ../shared/media (VoxCeleb2-style 224², GRID 360×288) are the GT; a JPEG-
degraded re-encode of each is the prediction. Pure decoding decodes every GT and pred clip
once with the same number of processes; evaluation decodes each once and computes PSNR,
SSIM, MS-SSIM and CPBD (pred and real rows).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from thgeval.io import ClipReader, load_clip, write_clip
from thgeval.run import evaluate

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
METRICS = "psnr,ssim,ms_ssim,cpbd"


def _decode_count(path: str) -> int:
    cv2.setNumThreads(1)
    return sum(len(c) for c in ClipReader(path, audio=False).chunks())


def make_pairs(root: Path) -> tuple[Path, Path]:
    gt, pred = root / "gt", root / "pred"
    gt.mkdir(parents=True), pred.mkdir(parents=True)
    clips = sorted((MEDIA / "voxceleb2").glob("*.mp4")) + sorted((MEDIA / "grid").glob("*.mpg"))
    for p in clips:
        os.symlink(p, gt / p.name)
        c = load_clip(p, audio=False)
        q = [cv2.imdecode(cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])[1], 1)[..., ::-1]
             for f in c.frames]
        write_clip(pred / (p.stem + ".mp4"), np.ascontiguousarray(np.stack(q)), c.fps, crf=18)
    # GRID's .mpg GT pairs with the .mp4 pred by stem.
    return gt, pred


def run(workers: int = os.cpu_count() or 1, repeat: int = 2) -> dict:
    root = Path(tempfile.mkdtemp(prefix="thgeval-bench-"))
    try:
        gt, pred = make_pairs(root)
        paths = [str(p) for p in sorted(gt.iterdir())] + [str(p) for p in sorted(pred.iterdir())]
        best_dec, best_eval, frames = float("inf"), float("inf"), 0
        for _ in range(repeat):
            t = time.perf_counter()
            # forkserver, like thgeval's own pool: forking a parent with running thread pools deadlocks
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
                frames = sum(pool.map(_decode_count, paths))
            best_dec = min(best_dec, time.perf_counter() - t)
            out = root / "out"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            r = evaluate(gt, {"jpeg": pred}, metrics=METRICS, out=out, workers=workers)
            best_eval = min(best_eval, time.perf_counter() - t)
            assert r.frames_decoded == frames, (r.frames_decoded, frames)
            assert not r.failed, [x.reason for x in r.failed]
        return {"clips": len(paths) // 2, "frames": frames, "workers": workers,
                "decode_s": best_dec, "eval_s": best_eval,
                "decode_fps": frames / best_dec, "eval_fps": frames / best_eval, "ratio": best_eval / best_dec}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def frame_pair_costs(path: Path, n: int = 40, repeat: int = 5) -> dict:
    """CPU milliseconds per frame of decoding (with the RGB conversion) and per frame pair of
    each metric as the run engine feeds it (one chunk of ``n`` frames, one thread), and of the
    four together (SSIM and MS-SSIM share their finest scale there)."""
    from thgeval.run.framepass import Accumulator, feed

    cv2.setNumThreads(1)
    gt = load_clip(path, audio=False).frames[:n]
    pred = np.stack([cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], 1) for f in gt])

    def cpu_ms(fn, per: int) -> float:
        best = float("inf")
        for _ in range(repeat):
            t = time.process_time()
            fn()
            best = min(best, (time.process_time() - t) / per * 1000)
        return best

    frames = sum(len(c) for c in ClipReader(path, audio=False).chunks())
    out = {"size": f"{gt.shape[2]}×{gt.shape[1]}",
           "decode": cpu_ms(lambda: sum(len(c) for c in ClipReader(path, audio=False).chunks()), frames)}
    names = METRICS.split(",")
    for k in names:
        out[k] = cpu_ms(lambda: feed(None, [(Accumulator(k, k), pred, gt)]), n)
    out["all"] = cpu_ms(lambda: feed(None, [(Accumulator(k, k), pred, gt) for k in names]), n) + out["cpbd"]
    out["ratio"] = (out["all"] + 2 * out["decode"]) / (2 * out["decode"])
    return out


def cost_table(costs: list[dict]) -> str:
    lines = ["| frames | decode + RGB, per frame | PSNR | SSIM | MS-SSIM | CPBD | all four, pred + real CPBD | "
             "(2 decodes + metrics) / 2 decodes |", "|---|---|---|---|---|---|---|---|"]
    for c in costs:
        lines.append(f"| {c['size']} | {c['decode']:.2f} | {c['psnr']:.2f} | {c['ssim']:.2f} | {c['ms_ssim']:.2f} | "
                     f"{c['cpbd']:.2f} | {c['all']:.2f} | {c['ratio']:.1f}× |")
    return "\n".join(lines)


PAIR_CLIPS = ("grid/bbaf2n.mpg", "voxceleb2/00104.mp4")


def main() -> None:
    if not MEDIA.is_dir():
        sys.exit(f"needs the real media at {MEDIA}")
    print(cost_table([frame_pair_costs(MEDIA / p) for p in PAIR_CLIPS]))
    r = run()
    print(f"{r['clips']} clip pairs, {r['frames']} frames decoded, {r['workers']} processes")
    print(f"pure decode: {r['decode_s']:.2f} s ({r['decode_fps']:.0f} frames/s)")
    print(f"eval {METRICS}: {r['eval_s']:.2f} s ({r['eval_fps']:.0f} frames/s) = {r['ratio']:.2f}× decode time")


if __name__ == "__main__":
    main()
