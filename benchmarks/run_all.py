"""Run every benchmark in one go and print the Markdown for BENCHMARKS.md.

    python benchmarks/run_all.py > /tmp/bench.md
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_eval  # noqa: E402
import bench_frames  # noqa: E402
import bench_transcripts  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    frames = bench_frames.run()
    ev = bench_eval.run()
    print(f"Measured {datetime.date.today().isoformat()} on {machine()}.\n")
    print("### Per-frame metrics (single process, same frames, same run)\n")
    print(bench_frames.table(frames))
    print("\n### Whole-clip evaluation vs pure decoding\n")
    print(f"{ev['clips']} real clip pairs (VoxCeleb2-style 224², GRID 360×288; pred = JPEG q30 re-encode), "
          f"{ev['frames']} frames decoded, {ev['workers']} processes, best of 2.\n")
    print("| job | seconds | frames/s |\n|---|---|---|")
    print(f"| decode every GT and pred clip once | {ev['decode_s']:.2f} | {ev['decode_fps']:.0f} |")
    print(f"| `thgeval eval` PSNR, SSIM, MS-SSIM, CPBD (pred + real rows) | {ev['eval_s']:.2f} | {ev['eval_fps']:.0f} |")
    print(f"\nEvaluation takes {ev['ratio']:.2f}× the pure decoding time.")
    print("\nCPU milliseconds per frame (pair), one process, one thread:\n")
    print(bench_eval.cost_table([bench_eval.frame_pair_costs(bench_eval.MEDIA / p) for p in bench_eval.PAIR_CLIPS]))
    print("\n### Datasets, transcripts and lip readers\n")
    bench_transcripts.main()


if __name__ == "__main__":
    main()
