"""``lse_c`` / ``lse_d @syncnet-pipeline`` end to end against syncnet_python's own pipeline.

The reference (joonson/syncnet_python, commit 6efbb1c) runs as its scripts run it, as two
subprocesses: ``run_pipeline.py --videofile CLIP --reference bench --data_dir data/work``
(ffmpeg re-encode and frame dump, PySceneDetect, S3FD, tracker, XVID crops) then
``run_syncnet.py ... --initial_model data/syncnet_v2.model`` (JPEG dump and WAV of each crop,
``SyncNetInstance.evaluate``). It is checked out from the local mirror into a scratch folder
with the golden tests' adaptations only (``.cuda()`` → CPU, ``np.int`` → ``int``), with the
golden tests' random weights (SyncNet: ``test_syncnet_wav2lip_golden.golden_state``, S3FD:
``_s3fd_util.s3fd_state``) and scenedetect 0.5.1 (with its OpenCV-5 fix) from ``--refpkgs``.

thgeval runs in a subprocess too, from the video file to the clip's LSE-C and LSE-D
(``Sample`` → ``lse_c`` / ``lse_d`` clip functions, one shared pass), ``encoder="auto"``
(the same ffmpeg commands where ``ffmpeg`` is on PATH). Both are timed in the same run, wall
and CPU (user + system of the subprocess and its children). The numbers are compared per
track (first and last frame, offset, LSE-D, LSE-C; the reference's recomputed from
``activesd.pckl`` as ``evaluate`` does) and per clip (mean over tracks).

    PYTHONPATH=src python benchmarks/bench_sync_pipeline.py [--clips syncnet/example.avi ...]
        [--repeat 1] [--mirror /work/.mirror/joonson+syncnet_python/repo] [--refpkgs /tmp/refpkgs]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
REF_FILES = ("run_pipeline.py", "run_syncnet.py", "SyncNetInstance.py", "SyncNetModel.py",
             "detectors/__init__.py", "detectors/s3fd/__init__.py", "detectors/s3fd/nets.py",
             "detectors/s3fd/box_utils.py")

_THG_DRIVER = r"""
import json, sys, time
t = time.perf_counter()
from pathlib import Path
from thgeval.metrics import resolve
from thgeval.metrics.sample import Sample
from thgeval.errors import MetricSkipped
s = Sample("m", "c", Path(sys.argv[1]))
out = {}
try:
    for n in ("lse_c", "lse_d"):
        ref = resolve(n + "@syncnet-pipeline")
        v = ref.metric.clip_fn(s, **ref.params())
        out[n] = v.value
        out["front_end"] = v.extra.get("front_end")
        out["tracks"] = [[t["first"], t["last"], t["offset"], t["lse_d"], t["lse_c"]] for t in v.extra["tracks"]]
except MetricSkipped as e:  # e.g. no track longer than 100 frames: the reference scores nothing either
    out["skipped"] = str(e)
    out["tracks"] = []
out["inner_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def _timed(cmd, cwd=None, env=None) -> tuple[float, float, subprocess.CompletedProcess]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"{cmd[:3]} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p


def prepare_reference(mirror: Path, work: Path) -> Path:
    """syncnet_python at the mirror's HEAD in ``work/ref`` with the golden tests' adaptations
    and random weights."""
    import torch

    sys.path.insert(0, str(ROOT / "tests"))
    from _s3fd_util import s3fd_state, save_s3fd
    from test_syncnet_wav2lip_golden import golden_state

    from thgeval.nets.syncnet import SyncNet

    ref = work / "ref"
    for f in REF_FILES:
        text = subprocess.run(["git", "-C", str(mirror), "show", f"HEAD:{f}"], capture_output=True, text=True,
                              check=True).stdout
        if f == "SyncNetInstance.py":
            text = text.replace(".cuda()", "")
        elif f == "run_pipeline.py":
            text = text.replace("S3FD(device='cuda')", "S3FD(device='cpu')")
        elif f == "detectors/s3fd/box_utils.py":
            text = text.replace("np.int)", "int)").replace("np.int,", "int,")
        (ref / f).parent.mkdir(parents=True, exist_ok=True)
        (ref / f).write_text(text)
    (ref / "data").mkdir(exist_ok=True)
    state = golden_state([(k, tuple(v.shape)) for k, v in SyncNet().state_dict().items()])
    torch.save(state, ref / "data" / "syncnet_v2.model", _use_new_zipfile_serialization=False)
    (ref / "detectors/s3fd/weights").mkdir(parents=True, exist_ok=True)
    save_s3fd(s3fd_state(), ref / "detectors/s3fd/weights/sfd_face.pth")
    home = work / "home" / "weights"
    home.mkdir(parents=True)
    os.link(ref / "data" / "syncnet_v2.model", home / "syncnet_v2.model")
    os.link(ref / "detectors/s3fd/weights/sfd_face.pth", home / "sfd_face.pth")
    return ref


def run_reference(ref: Path, clip: Path, refpkgs: Path) -> dict:
    import numpy as np
    import torch

    env = {**os.environ, "PYTHONPATH": str(refpkgs)}
    args = ["--videofile", str(clip), "--reference", "bench", "--data_dir", "data/work"]
    w1, c1, _ = _timed([sys.executable, "run_pipeline.py", *args], cwd=ref, env=env)
    w2, c2, _ = _timed([sys.executable, "run_syncnet.py", *args, "--initial_model", "data/syncnet_v2.model"],
                       cwd=ref, env=env)
    work = ref / "data/work/pywork/bench"
    with open(work / "tracks.pckl", "rb") as f:
        tracks = pickle.load(f)
    with open(work / "activesd.pckl", "rb") as f:
        dists = pickle.load(f)
    rows = []
    for t, d in zip(tracks, dists):  # evaluate's own float32 arithmetic on its saved distances
        mdist = torch.mean(torch.stack([torch.from_numpy(np.asarray(x)) for x in d], 1), 1)
        minval, minidx = torch.min(mdist, 0)
        fr = t["track"]["frame"]
        rows.append([int(fr[0]), int(fr[-1]), int(15 - minidx), float(minval), float(torch.median(mdist) - minval)])
    out = {"tracks": rows, "wall_s": w1 + w2, "cpu_s": c1 + c2, "pipeline_wall_s": w1, "syncnet_wall_s": w2}
    if rows:
        out["lse_d"] = float(np.mean([r[3] for r in rows]))
        out["lse_c"] = float(np.mean([r[4] for r in rows]))
    return out


def run_thgeval(clip: Path, home: Path) -> dict:
    env = {**os.environ, "THGEVAL_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.pop("THGEVAL_WEIGHTS_DIR", None)
    wall, cpu, p = _timed([sys.executable, "-c", _THG_DRIVER, str(clip)], env=env)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out.update(wall_s=wall, cpu_s=cpu)
    return out


def compare(ref: dict, thg: dict) -> dict:
    rt = sorted(map(tuple, ref["tracks"]))
    tt = sorted(map(tuple, thg["tracks"]))
    same_tracks = [r[:3] for r in rt] == [t[:3] for t in tt]
    diff = max((max(abs(a[3] - b[3]), abs(a[4] - b[4])) for a, b in zip(rt, tt)), default=0.0) \
        if same_tracks else None
    clip = None
    if "lse_d" in ref and same_tracks:
        clip = max(abs(ref["lse_d"] - thg["lse_d"]), abs(ref["lse_c"] - thg["lse_c"]))
    return {"same_tracks": same_tracks, "max_track_diff": diff, "max_clip_diff": clip}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=["syncnet/example.avi", "voxceleb2/00098.mp4", "grid/pwij3p.mpg"],
                    help="paths under ../shared/media")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror/joonson+syncnet_python/repo"))
    ap.add_argument("--refpkgs", type=Path, default=Path("/tmp/refpkgs"),
                    help="a folder with scenedetect 0.5.1 (syncnet_python's pin, OpenCV-5 fix)")
    ap.add_argument("--json", type=Path, help="write the results here")
    a = ap.parse_args(argv)
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-pipeline-") as d:
        work = Path(d)
        ref = prepare_reference(a.mirror, work)
        for name in a.clips:
            clip = MEDIA / name
            for k in range(a.repeat):
                r = run_reference(ref, clip, a.refpkgs)
                t = run_thgeval(clip, work / "home")
                c = compare(r, t)
                res = {"clip": name, "run": k, "load": os.getloadavg(), "reference": r, "thgeval": t, **c,
                       "ratio_wall": r["wall_s"] / t["wall_s"], "ratio_cpu": r["cpu_s"] / t["cpu_s"]}
                if "skipped" in t:
                    print(f"{name}: thgeval skipped ({t['skipped']}); reference tracks {r['tracks']}")
                results.append(res)
                print(f"{name} run {k}: reference {r['wall_s']:.1f} s wall / {r['cpu_s']:.1f} s CPU "
                      f"(pipeline {r['pipeline_wall_s']:.1f} + syncnet {r['syncnet_wall_s']:.1f}), thgeval "
                      f"{t['wall_s']:.1f} s wall / {t['cpu_s']:.1f} s CPU: {res['ratio_wall']:.2f}× wall, "
                      f"{res['ratio_cpu']:.2f}× CPU; tracks ref {len(r['tracks'])} thg {len(t['tracks'])}, same "
                      f"{c['same_tracks']}, max |Δ| per track {c['max_track_diff']}, clip {c['max_clip_diff']}; "
                      f"front end {t.get('front_end')}", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
