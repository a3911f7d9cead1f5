"""Datasets, transcripts and lip readers: how fast each piece is, against its reference where
one can run here.

    python benchmarks/bench_transcripts.py            # needs .[dev] and ../shared/media
    AUTO_AVSR=/path/to/auto_avsr python benchmarks/bench_transcripts.py   # also times its VideoProcess

- WER / CER on 20,000 perturbed GRID utterances: thgeval vs jiwer 4.0.0 (values equal);
- mouth ROIs per frame (Auto-AVSR and AV-HuBERT pipelines; Auto-AVSR's own VideoProcess
  in the same run when its checkout is given);
- GRID adapter on a full-size tree (34 speakers × 1000 linked clips): scan, and probing;
- LipNet forward per frame on the CPU (random weights).
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
MEDIA = ROOT.parent / "shared" / "media"


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def bench_wer(n=20000):
    import jiwer

    from thgeval.metrics.transcript import cer, normalize, wer

    with open(MEDIA / "manifest.csv", newline="") as f:
        base = [r["transcript"] for r in csv.DictReader(f) if r["transcript"]]
    rng = random.Random(0)
    vocab = sorted({w for b in base for w in b.split()})
    refs, hyps = [], []
    for i in range(n):
        r = base[i % len(base)].split()
        h = [rng.choice(vocab) if rng.random() < 0.15 else w for w in r if rng.random() > 0.05]
        refs.append(" ".join(r).upper())
        hyps.append(" ".join(h) + (" {NS}" if i % 7 == 0 else ""))
    t_ours, v = best(lambda: (wer(refs, hyps), cer(refs, hyps)))
    nr, nh = [normalize(x) for x in refs], [normalize(x) for x in hyps]
    t_ref, rv = best(lambda: (jiwer.wer(nr, nh), jiwer.cer(nr, nh)))
    assert abs(v[0] - rv[0]) < 1e-12 and abs(v[1] - rv[1]) < 1e-12
    return {"n": n, "ours_s": t_ours, "jiwer_s": t_ref, "wer": v[0], "cer": v[1]}


def bench_rois(n=150):
    from test_mouth_roi import synthetic_case

    from thgeval.nets.mouth_roi import AUTO_AVSR, AV_HUBERT, mouth_rois

    face, frames, lm = synthetic_case()
    reps = -(-n // len(frames))
    frames, lm = np.concatenate([frames] * reps)[:n], np.concatenate([lm] * reps)[:n]
    out = {}
    for s in (AUTO_AVSR, AV_HUBERT):
        t, _ = best(lambda: mouth_rois(frames, lm, None, face, s), 2)
        out[s.name] = 1000 * t / n
    ref = os.environ.get("AUTO_AVSR")
    if ref:
        sys.path.insert(0, str(Path(ref) / "preparation" / "detectors" / "retinaface"))
        from video_process import VideoProcess

        with tempfile.TemporaryDirectory() as d:
            np.save(Path(d) / "face.npy", face)
            vp = VideoProcess(mean_face_path=str(Path(d) / "face.npy"), convert_gray=True)
            lms = [None if not np.isfinite(x).all() else x for x in lm]
            t, ref_out = best(lambda: vp(frames, list(lms)), 2)
        ours = mouth_rois(frames, lm, None, face, AUTO_AVSR).rois
        out["auto_avsr_ref"] = 1000 * t / n
        out["auto_avsr_equal"] = bool(np.array_equal(ours, ref_out))
    return out


def bench_grid_scan(per_speaker=1000, probe_n=500):
    from test_datasets_grid import LAYOUT

    from thgeval.datasets import open_dataset
    from thgeval.datasets.grid import COLOURS, COMMANDS, PREPOSITIONS

    clips = [MEDIA / "grid" / f"{c}.mpg" for c in LAYOUT]
    letters = "abcdefghijklmnopqrstuvxyz"
    names = [c + o + p + l + d + a for c in COMMANDS for o in COLOURS for p in PREPOSITIONS for l in letters
             for d in "z123456789" for a in "anps"]
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for s in range(1, 35):
            if s == 21:
                continue
            (root / f"s{s}").mkdir()
            (root / "alignments" / f"s{s}").mkdir(parents=True)
            for i, u in enumerate(rng.sample(names, per_speaker)):
                (root / f"s{s}" / f"{u}.mpg").symlink_to(clips[i % len(clips)])
                (root / "alignments" / f"s{s}" / f"{u}.align").write_text("0 1000 sil\r\n1000 2000 bin\r\n")
        t_scan, rep = best(lambda: open_dataset("grid", root, "all"), 2)
        sub = rep.records[:probe_n]
        rep.records = sub
        t0 = time.perf_counter()
        rep.probe()
        t_probe = time.perf_counter() - t0
        return {"files": 33 * per_speaker, "scan_s": t_scan, "probe_n": probe_n, "probe_s": t_probe}


def bench_lipnet(frames=75):
    import torch

    from thgeval.nets.lipnet import LipNet

    torch.set_num_threads(1)
    m = LipNet((128, 64)).eval()
    x = torch.rand(1, 3, frames, 64, 128)
    with torch.no_grad():
        t, _ = best(lambda: m(x), 3)
    return {"ms_per_frame": 1000 * t / frames}


def main():
    w = bench_wer()
    r = bench_rois()
    g = bench_grid_scan()
    ln = bench_lipnet()
    print("| job | thgeval | reference | |\n|---|---|---|---|")
    print(f"| WER + CER, {w['n']} GRID utterances | {w['ours_s']:.3f} s | {w['jiwer_s']:.3f} s (jiwer 4.0.0, "
          f"on pre-normalised text) | equal values |")
    ref = (f"{r['auto_avsr_ref']:.2f} ms/frame (Auto-AVSR VideoProcess), bit-equal: {r['auto_avsr_equal']}"
           if "auto_avsr_ref" in r else "not timed (set AUTO_AVSR)")
    print(f"| mouth ROI, auto-avsr | {r['auto-avsr']:.2f} ms/frame | {ref} | |")
    print(f"| mouth ROI, av-hubert | {r['av-hubert']:.2f} ms/frame | – | |")
    print(f"| GRID adapter scan, {g['files']} linked clips + align files | {g['scan_s']:.2f} s | – | |")
    print(f"| probing {g['probe_n']} GRID files (threads) | {g['probe_s']:.2f} s "
          f"({g['probe_n'] / g['probe_s']:.0f} files/s) | – | |")
    print(f"| LipNet 128×64 forward, CPU 1 thread, 75 frames | {ln['ms_per_frame']:.2f} ms/frame | – | |")


if __name__ == "__main__":
    main()
