"""``thgeval demo``: a complete benchmark built from a real portrait, no download needed.

The portrait is Grace Hopper's photograph that ships inside matplotlib. A short clip with a
slow head-like motion is the ground truth; each "method" degrades it in a way whose effect
on each metric is known by construction, so the leaderboard must come out in that order.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np

from .io import write_clip

FPS = 25
SIZE = 256

# What the demo computes: the foundation's fidelity and sharpness metrics, then the face-region
# and landmark metrics that need no downloaded weights.
DEMO_METRICS = "psnr,ssim,ms_ssim,cpbd,psnr_face,ssim_face,lmd_mouth,csim"

# (better, worse, metrics): on every listed metric `better` must beat `worse`.
KNOWN_ORDER = [
    ("identical", "jpeg-mild", ("psnr", "ssim", "ms_ssim")),
    ("jpeg-mild", "jpeg-strong", ("psnr", "ssim", "ms_ssim")),
    ("identical", "blur", ("psnr", "ssim", "ms_ssim", "cpbd")),
    ("identical", "noise", ("psnr", "ssim", "ms_ssim")),
    ("identical", "frozen", ("psnr", "ssim", "ms_ssim")),
]


def portrait() -> np.ndarray:
    """Grace Hopper's portrait from matplotlib's sample data, RGB uint8."""
    from matplotlib import cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read matplotlib's sample portrait at {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _view(img: np.ndarray, size: int, zoom: float, dx: float, dy: float, angle: float) -> np.ndarray:
    h, w = img.shape[:2]
    side = min(w, h) * 0.72 * zoom
    x, y = w / 2 + dx * side, h * 0.42 + dy * side
    m = cv2.getRotationMatrix2D((x, y), angle, size / side)
    m[:, 2] += (size / 2 - x, size / 2 - y)
    return cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def portrait_clip(n_frames: int = 50, size: int = SIZE) -> np.ndarray:
    """A moving crop of the portrait: slow sway, nod and zoom, like a talking head."""
    img = portrait().astype(np.float32)
    frames = []
    for t in range(n_frames):
        a = 2 * np.pi * t / n_frames
        frames.append(_view(img, size, 1 + 0.04 * np.sin(2 * a), 0.03 * np.sin(a), 0.02 * np.sin(3 * a),
                            2.0 * np.sin(a)))
    return np.clip(np.stack(frames) + 0.5, 0, 255).astype(np.uint8)


def source_image(size: int = SIZE) -> np.ndarray:
    """The still the "frozen" method shows: the portrait in a pose no GT frame has."""
    still = _view(portrait().astype(np.float32), size, 1.07, -0.01, 0.015, -1.0)
    return np.clip(still + 0.5, 0, 255).astype(np.uint8)


def _jpeg(frames: np.ndarray, quality: int) -> np.ndarray:
    out = []
    for f in frames:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        out.append(cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    return np.stack(out)


def variants(frames: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 12, frames.shape)
    return {
        "jpeg-mild": _jpeg(frames, 75),
        "jpeg-strong": _jpeg(frames, 8),
        "blur": np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in frames]),
        "noise": np.clip(frames + noise, 0, 255).astype(np.uint8),
        # a generator that never animates its source image
        "frozen": np.repeat(source_image(frames.shape[1])[None], len(frames), axis=0),
    }


def build(root: str | os.PathLike, n_clips: int = 3, n_frames: int = 50) -> tuple[Path, dict[str, Path]]:
    """Write GT clips and one folder per degraded method; returns (gt_dir, {method: dir})."""
    root = Path(root)
    gt_dir = root / "gt"
    methods = ["identical", "jpeg-mild", "jpeg-strong", "blur", "noise", "frozen"]
    dirs = {m: root / "pred" / m for m in methods}
    for d in [gt_dir, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)
    base = portrait_clip(n_frames * n_clips)
    for i in range(n_clips):
        name = f"hopper_{i:02d}.mp4"
        frames = base[i * n_frames:(i + 1) * n_frames]
        # Lossless, so the degradations (not the encoder) set the order.
        write_clip(gt_dir / name, frames, FPS, lossless=True)
        shutil.copyfile(gt_dir / name, dirs["identical"] / name)
        for m, v in variants(frames, seed=i).items():
            write_clip(dirs[m] / name, v, FPS, lossless=True)
    return gt_dir, dirs


def check_order(board) -> list[str]:
    """Violations of KNOWN_ORDER in a leaderboard (empty when the order came out)."""
    problems = []
    for better, worse, names in KNOWN_ORDER:
        for ref in board.metrics:
            if ref.metric.name not in names:
                continue
            a, b = board.cell(better, ref).mean, board.cell(worse, ref).mean
            if a is None or b is None:
                problems.append(f"{ref.key}: no value for {better if a is None else worse}")
                continue
            ok = a > b if ref.metric.higher_is_better else a < b
            if not ok:
                problems.append(f"{ref.key}: expected {better} ({a:.4g}) to beat {worse} ({b:.4g})")
    return problems
