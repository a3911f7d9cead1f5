#!/usr/bin/env bash
# Network metrics on a CUDA machine: bench_networks.py (thgeval vs lpips / pytorch-fid / cd-fvd
# networks, same random weights) and `thgeval eval --device cuda` with LPIPS, FID, KID and FVD
# end to end against the CPU rows. Wheels of what the machine lacks in .whl/ and the GRID
# clips in .devmedia/grid (both git-ignored, carried); run from the repository root.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
mkdir -p ../shared/media
[[ -d ../shared/media/grid ]] || cp -r .devmedia/grid ../shared/media/grid
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader

echo "== bench_networks cuda"
python3 benchmarks/bench_networks.py --device cuda --scale 16

echo "== thgeval eval --device cuda vs cpu"
export THGEVAL_HOME=/tmp/thg
mkdir -p $THGEVAL_HOME/weights /tmp/ev/gt /tmp/ev/m
python3 - <<'PY'
import torch
from thgeval.nets.inception_fid import random_state_dict as fid_state
from thgeval.nets.i3d import random_state_dict as i3d_state
import torchvision
w = "/tmp/thg/weights/"
torch.manual_seed(0)
torch.save(torchvision.models.alexnet(weights=None).state_dict(), w + "alexnet-owt-7be5be79.pth")
torch.save(fid_state(0), w + "pt_inception-2015-12-05-6726825d.pth")
torch.save(i3d_state(0), w + "i3d_pretrained_400.pt")
PY
ls ../shared/media/grid/*.mpg | head -6 | while read f; do cp "$f" /tmp/ev/gt/; done
for f in /tmp/ev/gt/*.mpg; do python3 - "$f" <<'PY'
import sys, numpy as np
from pathlib import Path
from thgeval.io import load_clip, write_clip
c = load_clip(sys.argv[1])
noisy = np.clip(c.frames.astype(np.int16) + np.random.default_rng(0).integers(-12, 13, c.frames.shape), 0, 255).astype(np.uint8)
write_clip(Path("/tmp/ev/m") / (Path(sys.argv[1]).stem + ".mp4"), noisy, c.fps)
PY
done
for dev in cuda cpu; do
    SECONDS=0; python3 -m thgeval.cli eval --gt /tmp/ev/gt --pred noisy=/tmp/ev/m \
        --metrics lpips,fid,kid,fvd@tats --device $dev --out /tmp/ev/out_$dev --cache-dir /tmp/ev/cache_$dev --workers 1 2>&1 | tail -4; echo "$dev eval wall $SECONDS s"
done
python3 - <<'PY'
import csv
def rows(d):
    return {(r["method"], r["clip"], r["metric"], r["variant"]): r["value"] for r in csv.DictReader(open(f"/tmp/ev/out_{d}/per_clip.csv"))}
a, b = rows("cuda"), rows("cpu")
worst = 0.0
for k in a:
    if a[k] and b.get(k):
        x, y = float(a[k]), float(b[k])
        worst = max(worst, abs(x - y) / max(abs(y), 1e-12))
        if k[1] in ("*", "(set)") or k[2] in ("fid", "kid", "fvd"):
            print(k, x, y)
print("max relative difference cuda vs cpu over", len(a), "rows:", worst)
PY
