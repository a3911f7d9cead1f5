"""Network metrics: throughput of thgeval's LPIPS, FID Inception and I3D against the reference
packages' networks (lpips 0.1.4, pytorch-fid 0.3.0, cd-fvd 0.1.1) on the same inputs and the
same random weights, in one run, on one device.

    PYTHONPATH=src python benchmarks/bench_networks.py [--device cpu|cuda] [--scale 1]

Inputs: GRID frames of ../shared/media resized to the networks' usual sizes (LPIPS 256² face
crops, FID 224² frames, FVD 16-frame 224² windows). Prints one Markdown row per network.
"""

from __future__ import annotations

import argparse
import re
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def _frames(n: int, size: int) -> np.ndarray:
    from thgeval.io import load_clip

    clips = sorted((MEDIA / "grid").glob("*.mpg"))
    out = []
    for p in clips:
        for f in load_clip(p).frames:
            out.append(cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA))
            if len(out) == n:
                return np.stack(out)
    k = len(out)
    while len(out) < n:  # fewer frames than asked: cycle through them
        out.append(out[len(out) - k])
    return np.stack(out)


def _time(fn, device: str, reps: int = 2) -> tuple[float, object]:
    out = fn()  # warm-up (and the result)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps, out


def bench_lpips(device, n):
    import lpips

    from thgeval.nets.lpips import LPIPS, lpips_distances, to_unit_range

    rows = []
    a, b = _frames(2 * n, 256)[:n], _frames(2 * n, 256)[n:]
    for net in ("alex", "vgg"):
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval().to(device)
        state = {}
        for k, v in ref.net.state_dict().items():
            m = re.match(r"slice\d+\.(\d+)\.(.+)", k)
            state[f"features.{m.group(1)}.{m.group(2)}"] = v
        heads = {k: v for k, v in ref.state_dict().items() if k.startswith("lin")}
        ours = LPIPS(net, backbone=state, heads=heads).to(device)
        bs = 32 if net == "alex" else 8

        def run_ref():
            out = []
            with torch.no_grad():
                for s in range(0, n, bs):
                    out.append(ref(to_unit_range(a[s:s + bs], device), to_unit_range(b[s:s + bs], device)).flatten())
            return torch.cat(out).cpu().numpy()

        t_ref, want = _time(run_ref, device)
        t_our, got = _time(lambda: lpips_distances(ours, a, b, batch_size=bs), device)
        rows.append((f"LPIPS {net}, 256² pairs", n, t_ref, t_our, float(np.abs(got - want).max())))
    return rows


def bench_fid(device, n):
    import pytorch_fid.inception as ref_mod

    from thgeval.nets.inception_fid import FIDInception, fid_features, random_state_dict

    state = random_state_dict(0)
    ref_mod.load_state_dict_from_url = lambda *a, **k: state
    ref = ref_mod.InceptionV3([3]).eval().to(device)
    ours = FIDInception(state).to(device)
    x = _frames(n, 224)
    bs = 32

    def run_ref():
        out = []
        with torch.no_grad():
            for s in range(0, n, bs):
                t = torch.from_numpy(x[s:s + bs]).to(device).permute(0, 3, 1, 2).float() / 255.0
                out.append(ref(t)[0][:, :, 0, 0])
        return torch.cat(out).cpu().numpy()

    t_ref, want = _time(run_ref, device)
    t_our, got = _time(lambda: fid_features(ours, x, batch_size=bs), device)
    return [("FID Inception-v3, 224² frames", n, t_ref, t_our, float(np.abs(got - want).max()))]


def bench_i3d(device, n):
    from cdfvd.third_party.i3d import pytorch_i3d, utils

    from thgeval.nets.i3d import I3D, random_state_dict, tats_inputs

    state = random_state_dict(0)
    ref = pytorch_i3d.InceptionI3d(400, in_channels=3)
    ref.load_state_dict(state)
    ref = ref.eval().to(device)
    ours = I3D(state).to(device)
    frames = _frames(16 * n, 224)
    clips = frames.reshape(n, 16, 224, 224, 3)
    bs = 4

    def run(model, prep):
        out = []
        with torch.no_grad():
            for s in range(0, n, bs):
                out.append(model(prep(clips[s:s + bs]).to(device)))
        return torch.cat(out).cpu().numpy()

    t_ref, want = _time(lambda: run(ref, utils.preprocess_i3d), device)
    t_our, got = _time(lambda: run(ours, lambda c: tats_inputs(c, 224)), device)
    return [("FVD I3D, 16×224² windows", n, t_ref, t_our, float(np.abs(got - want).max()))]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--scale", type=int, default=1, help="multiply the item counts (GPU: 8)")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    s = args.scale
    rows = bench_lpips(args.device, 32 * s) + bench_fid(args.device, 32 * s) + bench_i3d(args.device, 4 * s)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}")
    print("| network | items | reference items/s | thgeval items/s | speed-up | max abs diff |")
    print("|---|---|---|---|---|---|")
    for what, n, t_ref, t_our, diff in rows:
        print(f"| {what} | {n} | {n / t_ref:.1f} | {n / t_our:.1f} | {t_ref / t_our:.2f}× | {diff:.1e} |")


if __name__ == "__main__":
    main()
