"""VoxCeleb2 and the FOMM VoxCeleb test set.

- VoxCeleb2 (Chung, Nagrani, Zisserman 2018): ``{dev,test}/mp4/{id}/{ytid}/{NNNNN}.mp4``
  (224×224 face crops, 25 fps, AAC audio), audio also as ``{dev,test}/aac/{id}/{ytid}/{NNNNN}.m4a``.
  The identities of each split are in ``vox2_meta.csv`` (``VoxCeleb2 ID, VGGFace2 ID, Gender,
  Set``), which ``meta=`` checks the folders against.
- FOMM VoxCeleb (Siarohin et al. 2019, AliaksandrSiarohin/video-preprocessing): clips cut from
  YouTube videos by ``vox-metadata.csv`` (``video_id,start,end,bbox,fps,width,height,
  partition,person_id``; start and end are frame numbers), written by ``load_videos.py`` as
  ``{partition}/{person_id}#{video_id}#{start:06d}#{end:06d}.mp4``, 256×256, no audio. The
  metadata file is the user's (``metadata=``); its ``partition`` column is the split.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import ConfigError
from .base import (MISSING, UNEXPECTED, UNREADABLE, Adapter, DatasetReport, Expect, Problem, Record, find_list,
                   read_lines)

VOX2_EXPECT = Expect(fps=25.0, sizes=((224, 224),), audio=True)
VOX2_DOCUMENTED = {"test": (118, 36237), "dev": (5994, 1092009)}  # identities, utterances


def read_vox2_meta(path: Path) -> dict[str, str]:
    """``vox2_meta.csv`` → identity → set ('dev' or 'test'); cells are space-padded in the file."""
    out = {}
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = [[c.strip() for c in row] for row in csv.reader(f) if row]
    if not rows:
        raise ConfigError(f"{path}: empty VoxCeleb2 meta file")
    head = [h.lower() for h in rows[0]]
    try:
        i_id = next(i for i, h in enumerate(head) if h.startswith("voxceleb2"))
        i_set = head.index("set")
    except (StopIteration, ValueError):
        raise ConfigError(f"{path}: expected the columns 'VoxCeleb2 ID' and 'Set'") from None
    for row in rows[1:]:
        if len(row) > max(i_id, i_set):
            out[row[i_id]] = row[i_set].lower()
    return out


class VoxCeleb2(Adapter):
    name = "voxceleb2"
    title = "VoxCeleb2"
    splits = ("test", "dev")
    default_split = "test"
    layout = "{dev,test}/mp4/{id}/{ytid}/{NNNNN}.mp4 (+ {dev,test}/aac/…/{NNNNN}.m4a)"
    licence = "CC BY 4.0 (metadata); videos from YouTube, obtained by the user"
    citation = "Chung, Nagrani, Zisserman. VoxCeleb2: Deep Speaker Recognition. Interspeech 2018"
    url = "https://www.robots.ox.ac.uk/~vgg/data/voxceleb/vox2.html"
    options = {"list": "file naming the clips ({id}/{ytid}/{NNNNN} per line)",
               "meta": "vox2_meta.csv, to check each identity is in its split's folder"}

    def scan(self, root: Path, split: str, *, list=None, meta=None) -> DatasetReport:
        candidates = [root / split / "mp4", root / "mp4", root / split]
        folder = next((c for c in candidates if c.is_dir() and any(c.glob("id*"))), None)
        if folder is None:
            raise ConfigError(f"voxceleb2: no identity folders (id…/) in {', '.join(map(str, candidates))}")
        aac = folder.parent / "aac" if folder.name == "mp4" else None
        problems, notes, records = [], [], []
        if list is not None:
            ids = [ln.split()[0].removesuffix(".mp4") for ln in read_lines(Path(list), "VoxCeleb2 list")]
            ids = [i.split("mp4/", 1)[-1] for i in ids]
        else:
            ids = sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.glob("id*/*/*.mp4"))
        if meta is not None:
            sets = read_vox2_meta(Path(meta))
            present = {d.name for d in folder.iterdir() if d.is_dir()}
            for ident in sorted(present):
                s = sets.get(ident)
                if s != split:
                    problems.append(Problem(UNEXPECTED, ident, str(folder / ident),
                                            f"identity of the {s or 'unknown'} set in the {split} folder"))
            for ident in sorted(i for i, s in sets.items() if s == split and i not in present):
                problems.append(Problem(MISSING, ident, str(folder / ident), f"{split} identity without a folder"))
        for cid in ids:
            video = folder / f"{cid}.mp4"
            if not (video.is_file() or video.is_symlink()):
                problems.append(Problem(MISSING, cid, str(video), "video not found"))
                continue
            ident, yt, utt = (cid.split("/") + ["", "", ""])[:3]
            m4a = aac / f"{cid}.m4a" if aac is not None else None
            audio = m4a if m4a is not None and m4a.is_file() else video
            records.append(Record(cid, video, audio, 25.0, None, ident, {"youtube_id": yt, "utterance": utt},
                                  VOX2_EXPECT))
        n_ids, n_utts = VOX2_DOCUMENTED[split]
        notes.append(f"the published {split} set has {n_utts} utterances of {n_ids} identities; "
                     f"found {len(records)} of {len({r.speaker for r in records})}")
        return DatasetReport("voxceleb2", split, root, len(ids) if list is not None else None, records,
                             problems, notes)


class FommVox(Adapter):
    name = "fomm-vox"
    title = "VoxCeleb as cut by FOMM's video-preprocessing (vox-metadata.csv)"
    splits = ("test", "train")
    default_split = "test"
    layout = "{train,test}/{person_id}#{video_id}#{start:06d}#{end:06d}.mp4"
    licence = "VoxCeleb: CC BY 4.0 metadata, YouTube videos; vox-metadata.csv from the user's copy"
    citation = "Siarohin, Lathuilière, Tulyakov, Ricci, Sebe. First Order Motion Model for Image Animation. NeurIPS 2019"
    url = "https://github.com/AliaksandrSiarohin/video-preprocessing"
    options = {"metadata": "vox-metadata.csv (default: ROOT/vox-metadata.csv)",
               "size": "frame side the clips were written at (default 256, load_videos.py's image_shape)"}

    def scan(self, root: Path, split: str, *, metadata=None, size=256) -> DatasetReport:
        if metadata is None:
            metadata = find_list([root / "vox-metadata.csv", root.parent / "vox-metadata.csv"], "vox-metadata.csv",
                                 "pass metadata=PATH to your copy of FOMM's vox-metadata.csv")
        with open(metadata, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        need = {"video_id", "start", "end", "bbox", "fps", "partition", "person_id"}
        if not rows or not need <= set(rows[0]):
            raise ConfigError(f"{metadata}: expected the columns {', '.join(sorted(need))}")
        folder = root / split
        problems, records, ids = [], [], []
        seen = set()
        for row in rows:
            if row["partition"].strip() != split:
                continue
            start, end = int(row["start"]), int(row["end"])
            cid = f"{row['person_id'].strip()}#{row['video_id'].strip()}#{start:06d}#{end:06d}"
            if cid in seen:
                continue
            seen.add(cid)
            ids.append(cid)
            video = folder / f"{cid}.mp4"
            if (folder / cid).is_dir():
                problems.append(Problem(UNREADABLE, cid, str(folder / cid),
                                        "a folder of PNG frames (load_videos.py --format .png); write .mp4 clips"))
                continue
            if not (video.is_file() or video.is_symlink()):
                problems.append(Problem(MISSING, cid, str(video), "video not found"))
                continue
            fps = float(row["fps"])
            meta = {"video_id": row["video_id"].strip(), "start": start, "end": end, "bbox": row["bbox"].strip(),
                    "source_size": [int(row.get("width") or 0), int(row.get("height") or 0)]}
            records.append(Record(cid, video, None, fps, None, row["person_id"].strip(), meta,
                                  Expect(fps=fps, sizes=((int(size), int(size)),), frames=end - start)))
        if folder.is_dir():
            extra = sorted(p.stem for p in folder.glob("*.mp4") if p.stem not in seen)
            problems += [Problem(UNEXPECTED, c, str(folder / f"{c}.mp4"), f"not a {split} clip of {Path(metadata).name}")
                         for c in extra]
        notes = [f"clips of partition {split!r} in {metadata}"]
        return DatasetReport("fomm-vox", split, root, len(ids), records, problems, notes)
