"""Per-frame metric throughput against the reference implementations, same frames, one run.

Real frames (GRID, VoxCeleb2-style clips, a still) resized to 256² and 512², each paired
with a JPEG-compressed copy. Ours vs scikit-image (PSNR, SSIM gaussian and uniform-7),
pytorch-msssim on the CPU (MS-SSIM) and the `cpbd` package (CPBD); single process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from thgeval.metrics import cpbd, ms_ssim, psnr, ssim

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def real_frames(n: int = 8) -> list[np.ndarray]:
    frames = []
    for path in ("grid/bbaf2n.mpg", "voxceleb2/00104.mp4", "syncnet/example.avi"):
        with av.open(str(MEDIA / path)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i % 20 == 0:
                    frames.append(f.to_ndarray(format="rgb24"))
                if len(frames) >= n * 3 // 4 and path != "syncnet/example.avi":
                    break
    still = cv2.cvtColor(cv2.imread(str(MEDIA / "stills" / "obama_portrait.jpg")), cv2.COLOR_BGR2RGB)
    return (frames + [still])[:n]


def _jpeg(f, q=30):
    return np.ascontiguousarray(cv2.imdecode(cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])[1], 1)[..., ::-1])


def _time(fn, items, repeat=3) -> tuple[float, list]:
    """Best-of-``repeat`` milliseconds per item, and the values."""
    best, values = float("inf"), []
    for _ in range(repeat):
        t = time.perf_counter()
        values = [fn(*it) for it in items]
        best = min(best, (time.perf_counter() - t) / len(items) * 1000)
    return best, values


def run(n: int = 8) -> list[dict]:
    import torch
    import cpbd as cpbd_ref
    from PIL import Image
    from pytorch_msssim import ms_ssim as ms_ref
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    torch.set_num_threads(1)
    rows = []
    base = real_frames(n)
    for side in (256, 512):
        gts = [cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA) for f in base]
        pairs = [(_jpeg(g), g) for g in gts]
        t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
        cases = [
            ("PSNR", lambda p, g: psnr(p, g), lambda p, g: peak_signal_noise_ratio(g, p, data_range=255),
             "scikit-image 0.26", pairs),
            ("SSIM (gaussian)", lambda p, g: ssim(p, g),
             lambda p, g: structural_similarity(g, p, gaussian_weights=True, sigma=1.5,
                                                use_sample_covariance=False, data_range=255, channel_axis=-1),
             "scikit-image 0.26", pairs),
            ("SSIM (uniform 7)", lambda p, g: ssim(p, g, window="uniform", win_size=7, sample_covariance=True),
             lambda p, g: structural_similarity(g, p, data_range=255, channel_axis=-1), "scikit-image 0.26", pairs),
            ("MS-SSIM", lambda p, g: ms_ssim(p, g), lambda p, g: float(ms_ref(t(p), t(g), data_range=255)),
             "pytorch-msssim 1.0.0 (CPU, 1 thread)", pairs),
            ("CPBD", lambda g: cpbd(g), lambda g: cpbd_ref.compute(np.asarray(Image.fromarray(g).convert("L"))),
             "cpbd 1.0.3", [(g,) for g in gts[: max(2, n // 4)]]),
        ]
        for name, ours, ref, ref_name, items in cases:
            ref_ms, ref_vals = _time(ref, items, repeat=1 if name == "CPBD" else 3)
            our_ms, our_vals = _time(ours, items)
            rows.append({"metric": name, "size": f"{side}²", "frames": len(items), "ours_ms": our_ms,
                         "ref_ms": ref_ms, "reference": ref_name, "speedup": ref_ms / our_ms,
                         "max_abs_diff": float(np.max(np.abs(np.array(our_vals) - np.array(ref_vals))))})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| metric | size | frames | thgeval ms/frame | reference ms/frame | reference | speed-up | max abs diff |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['metric']} | {r['size']} | {r['frames']} | {r['ours_ms']:.2f} | {r['ref_ms']:.2f} | "
                     f"{r['reference']} | {r['speedup']:.1f}× | {r['max_abs_diff']:.1e} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if not MEDIA.is_dir():
        sys.exit(f"needs the real media at {MEDIA}")
    print(table(run()))
