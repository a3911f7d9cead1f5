"""HDTF (Zhang et al. 2021): high-resolution talking-face clips cut from YouTube videos.

The dataset is its metadata: per subset (``RD``, ``WDA``, ``WRA``) five files in
``HDTF_dataset/`` — ``{subset}_video_url.txt`` (name, URL), ``{subset}_resolution.txt`` (name,
height), ``{subset}_annotion_time.txt`` (name, then ``mm:ss-mm:ss`` per clip),
``{subset}_crop_wh.txt`` and ``{subset}_crop_ratio.txt`` (``{name}_{clip}.mp4`` per line). The
commonly used processing (universome/HDTF ``download.py``) writes clip ``k`` of video ``name``
as ``{subset}_{name}_{k:03d}.mp4`` and discards clips without a crop and videos without a
resolution; its clips have no sound. There is no official split: papers name their own test
clips, which the user passes as a list (``split="list"``, ``list=PATH``).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from .base import (BAD_NAME, EXCLUDED, MISSING, Adapter, DatasetReport, Expect, Problem, Record, read_lines)

SUBSETS = ("RD", "WDA", "WRA")
CLIP_NAME = re.compile(r"^(RD|WDA|WRA)_(.+)_(\d{3})$")
VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm")


def _table(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if path.is_file():
        for ln in read_lines(path, "HDTF metadata"):
            parts = ln.split()
            out[parts[0]] = parts[1:]
    return out


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    s = 0.0
    for p in parts:
        s = s * 60 + p
    return s


def expected_clips(meta_dir: Path) -> tuple[dict[str, dict], list[Problem]]:
    """Clip name → its metadata, from the five files of each subset; plus the clips the
    metadata itself makes unusable (no crop, no resolution), as EXCLUDED problems."""
    clips: dict[str, dict] = {}
    problems: list[Problem] = []
    found_any = False
    for subset in SUBSETS:
        times = _table(meta_dir / f"{subset}_annotion_time.txt")
        res = _table(meta_dir / f"{subset}_resolution.txt")
        crops = _table(meta_dir / f"{subset}_crop_wh.txt")
        ratios = _table(meta_dir / f"{subset}_crop_ratio.txt")
        urls = _table(meta_dir / f"{subset}_video_url.txt")
        found_any = found_any or bool(times)
        for video, stamps in times.items():
            name = video.removesuffix(".mp4")
            for k, stamp in enumerate(stamps):
                cid = f"{subset}_{name}_{k:03d}"
                crop = crops.get(f"{name}_{k}.mp4")
                if name + ".mp4" not in res or len(res[name + ".mp4"]) != 1:
                    problems.append(Problem(EXCLUDED, cid, None, "its video has no resolution in the metadata"))
                    continue
                if crop is None:
                    problems.append(Problem(EXCLUDED, cid, None, "no crop in the metadata (discarded by download.py)"))
                    continue
                start, _, end = stamp.partition("-")
                clips[cid] = {
                    "subset": subset, "video": name, "clip": k, "start_s": _seconds(start), "end_s": _seconds(end),
                    "crop_wh": [int(x) for x in crop], "crop_ratio": float(ratios.get(f"{name}_{k}.mp4", ["nan"])[0]),
                    "resolution": int(res[name + ".mp4"][0]), "url": (urls.get(name) or [None])[0],
                }
    if not found_any:
        raise ConfigError(f"hdtf: no {{RD,WDA,WRA}}_annotion_time.txt in {meta_dir}")
    return clips, problems


class Hdtf(Adapter):
    name = "hdtf"
    title = "HDTF (High-Definition Talking Face)"
    splits = ("all", "list")
    default_split = "all"
    layout = "{RD|WDA|WRA}_{name}_{idx:03d}.mp4 (+ HDTF_dataset/ metadata files)"
    licence = "CC BY 4.0 (metadata); videos from YouTube, obtained by the user"
    citation = "Zhang, Li, Ding, Fan. Flow-guided One-shot Talking Face Generation with a High-resolution Audio-visual Dataset. CVPR 2021"
    url = "https://github.com/MRzzm/HDTF"
    options = {"metadata": "the HDTF_dataset folder (default: ROOT/HDTF_dataset when present)",
               "list": "the clips of a paper's split, one name per line (split=list)",
               "fps": "frame rate the clips should have (not checked by default)",
               "size": "frame side the clips should have (not checked by default; 512 in the HDTF paper)"}

    def scan(self, root: Path, split: str, *, metadata=None, list=None, fps=None, size=None) -> DatasetReport:
        if split == "list" and list is None:
            raise ConfigError("hdtf has no official split: pass list=PATH naming your split's clips")
        files: dict[str, Path] = {}
        problems: list[Problem] = []
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() not in VIDEO_EXTS or p.name.startswith("."):
                continue
            if not CLIP_NAME.match(p.stem):
                problems.append(Problem(BAD_NAME, p.stem, str(p), "not {RD|WDA|WRA}_{name}_{NNN}"))
                continue
            files.setdefault(p.stem, p)
        meta_dir = Path(metadata) if metadata else (root / "HDTF_dataset")
        meta: dict[str, dict] = {}
        notes = []
        if metadata or meta_dir.is_dir():
            meta, excluded = expected_clips(meta_dir)
            problems += excluded
            notes.append(f"clips named by the metadata in {meta_dir}")
        if split == "list":
            ids = [Path(ln.split()[0]).stem for ln in read_lines(Path(list), "HDTF list")]
            notes.append(f"split from {list}")
        elif meta:
            ids = sorted(meta)
        else:
            ids = sorted(files)
            notes.append("no metadata folder: every clip found is used, none can be reported missing")
        excluded_ids = {p.id for p in problems if p.kind == EXCLUDED}
        expect = Expect(fps=float(fps) if fps else None, sizes=((int(size), int(size)),) if size else None, audio=True)
        records = []
        for cid in ids:
            if cid in excluded_ids:
                continue
            video = files.get(cid)
            if video is None:
                problems.append(Problem(MISSING, cid, str(root / f"{cid}.mp4"), "video not found"))
                continue
            m = CLIP_NAME.match(cid)
            info = dict(meta.get(cid, {"subset": m.group(1), "video": m.group(2), "clip": int(m.group(3))}))
            speaker = f"{m.group(1)}_{m.group(2)}"
            records.append(Record(cid, video, video, float(fps) if fps else None, None, speaker, info, expect))
        expected = len(ids) - len(excluded_ids & set(ids)) if (meta or split == "list") else None
        return DatasetReport("hdtf", split, root, expected, records, problems, notes)
