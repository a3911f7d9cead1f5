#!/usr/bin/env bash
# SyncNet on a CUDA machine: the reference and thgeval on the same clip and random weights
# (bench_sync.py --device cuda), CPU-vs-CUDA equality of LSE scores, embedder throughput by
# batch size, and `thgeval eval --device cuda` end to end. Run from the repository root on a
# machine with torch + CUDA; wheels for what is missing there (av, python_speech_features,
# syncnet-python) in .whl/, the SyncNet demo clip in .devmedia/ (both git-ignored, carried).
set -uo pipefail
if [[ -d .whl ]]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
else
    export PYTHONPATH=$PWD/src
fi
export PYTHONUNBUFFERED=1
mkdir -p ../shared/media/syncnet
[[ -f ../shared/media/syncnet/example.avi ]] || cp .devmedia/example.avi ../shared/media/syncnet/
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

echo "== bench_sync, cuda (twice: the second is warm) and cpu"
python3 benchmarks/bench_sync.py --frames 300 --device cuda
python3 benchmarks/bench_sync.py --frames 300 --device cuda
python3 benchmarks/bench_sync.py --frames 300 --device cpu

echo "== embedder: CPU vs CUDA scores, throughput by batch size"
python3 - <<'EOF'
import tempfile, time
from pathlib import Path
import numpy as np, torch
from thgeval.io import load_clip
from thgeval.io.jpeg import ffmpeg_jpeg_frames
from thgeval.metrics.audio_features import to_int16_scale
from thgeval.metrics.lse import score_arrays
from thgeval.nets.syncnet import SyncNetEmbedder, random_state_dict, save_state_dict

clip = Path("../shared/media/syncnet/example.avi")
with tempfile.TemporaryDirectory() as d:
    w = save_state_dict(random_state_dict(0), Path(d) / "syncnet_v2.model")
    frames = ffmpeg_jpeg_frames(clip)
    audio = to_int16_scale(load_clip(clip).audio)
    res = {}
    for dev in ("cpu", "cuda"):
        r = score_arrays(SyncNetEmbedder(w, device=dev), frames, audio)
        res[dev] = r
        print(f"{dev}: offset {r.offset} LSE-C {r.lse_c:.6f} LSE-D {r.lse_d:.6f}")
    print("max |Δ| cpu vs cuda:", max(abs(res['cpu'].lse_c - res['cuda'].lse_c), abs(res['cpu'].lse_d - res['cuda'].lse_d)))
    n = len(frames)
    for bs in (32, 128, 512):
        emb = SyncNetEmbedder(w, device="cuda", batch_size=bs)
        score_arrays(emb, frames, audio)  # warm-up
        torch.cuda.synchronize()
        t = time.perf_counter()
        reps = 5
        for _ in range(reps):
            score_arrays(emb, frames, audio)
        torch.cuda.synchronize()
        dt = (time.perf_counter() - t) / reps
        print(f"cuda batch {bs}: {dt * 1000:.1f} ms per {n}-frame clip → {n / dt:.0f} frames/s (scoring included)")
EOF

echo "== thgeval eval --device cuda"
export THGEVAL_HOME=/tmp/thg
mkdir -p $THGEVAL_HOME/weights /tmp/ev/gt /tmp/ev/m
python3 -c "
from pathlib import Path
from thgeval.nets.syncnet import random_state_dict, save_state_dict
save_state_dict(random_state_dict(0), Path('/tmp/thg/weights/syncnet_v2.model'))"
cp ../shared/media/syncnet/example.avi /tmp/ev/gt/a.avi
cp ../shared/media/syncnet/example.avi /tmp/ev/m/a.avi
for dev in cuda cpu; do
    python3 -m thgeval.cli eval --gt /tmp/ev/gt --pred m=/tmp/ev/m --metrics lse_c@wav2lip-lrs,lse_d@wav2lip-lrs,av_offset@wav2lip-lrs \
        --device $dev --out /tmp/ev/out_$dev 2>&1 | tail -12
done
echo "per-clip rows, cuda then cpu:"
grep -h -v "^method" /tmp/ev/out_cuda/per_clip.csv /tmp/ev/out_cpu/per_clip.csv
