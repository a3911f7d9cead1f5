"""BBC and TED lip-reading sets: LRS2, LRS3 (sentences) and LRW (isolated words).

LRS2 and LRW are licensed by the BBC for research only and may not be redistributed;
thgeval ships nothing of them, not even their split lists: the adapters read the lists from
the user's copy (or a path passed as ``list=``).

- LRS2 (Afouras et al. 2018): ``mvlrs_v1/main/{vid}/{utt}.mp4`` with ``{utt}.txt`` whose first
  line is ``Text:  WORDS``; ``pretrain`` clips under ``mvlrs_v1/pretrain``; split lists
  ``train.txt`` / ``val.txt`` / ``test.txt`` / ``pretrain.txt`` beside ``mvlrs_v1``, lines
  ``{vid}/{utt}`` optionally followed by a flag (``NF`` or ``MV``). 160×160, 25 fps.
- LRS3 (Afouras et al. 2018): ``{pretrain,trainval,test}/{ytid}/{utt}.mp4`` + ``.txt`` (same
  ``Text:`` line); the folders are the splits. 224×224, 25 fps.
- LRW (Chung & Zisserman 2016): ``lipread_mp4/{WORD}/{train,val,test}/{WORD}_{NNNNN}.mp4``,
  500 words, 50 clips per word in val and test, 29 frames (1.16 s) at 25 fps, 256×256;
  scored by word accuracy (the transcript is the word).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from .base import (BAD_NAME, MISSING, NO_TRANSCRIPT, UNEXPECTED, Adapter, DatasetReport, Expect, Problem, Record, find_list,
                   read_lines)

LRS2_EXPECT = Expect(fps=25.0, sizes=((160, 160),), audio=True)
LRS3_EXPECT = Expect(fps=25.0, sizes=((224, 224),), audio=True)
LRW_EXPECT = Expect(fps=25.0, sizes=((256, 256),), frames=29, audio=True)
DOCUMENTED = {("lrs2", "test"): 1243, ("lrs3", "test"): 1321}  # utterances in the papers' test sets
LRW_WORDS, LRW_PER_WORD = 500, 50


def read_lrs_text(path: Path) -> str | None:
    """The transcript of an LRS2/LRS3 ``.txt`` file: its ``Text:`` line, or None."""
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Text:"):
            text = line[len("Text:"):].strip()
            return text or None
    return None


def _text_record(cid, video, txt, speaker, meta, expect, problems) -> Record:
    text = None
    if txt.is_file():
        text = read_lrs_text(txt)
        if text is None:
            problems.append(Problem(NO_TRANSCRIPT, cid, str(txt), "no 'Text:' line"))
    else:
        problems.append(Problem(NO_TRANSCRIPT, cid, str(txt), "transcript file not found"))
    return Record(cid, video, video, 25.0, text, speaker, meta, expect)


def _documented_note(dataset, split, found, expected) -> list[str]:
    n = DOCUMENTED.get((dataset, split))
    if n is None or expected == n:
        return []
    return [f"the published {dataset.upper()} {split} set has {n} utterances; this split has {expected}"]


class LRS2(Adapter):
    name = "lrs2"
    title = "Lip Reading Sentences 2 (BBC)"
    splits = ("test", "val", "train", "pretrain")
    default_split = "test"
    layout = "mvlrs_v1/main/{vid}/{utt}.mp4 + .txt; lists {split}.txt beside mvlrs_v1"
    licence = "BBC research licence: no redistribution (nothing of it ships with thgeval)"
    citation = "Afouras, Chung, Senior, Vinyals, Zisserman. Deep Audio-Visual Speech Recognition. TPAMI 2018"
    url = "https://www.robots.ox.ac.uk/~vgg/data/lip_reading/lrs2.html"
    options = {"list": "the official split list (e.g. test.txt), if not beside mvlrs_v1"}

    def scan(self, root: Path, split: str, *, list=None) -> DatasetReport:
        data = root / "mvlrs_v1" if (root / "mvlrs_v1").is_dir() else root
        if list is None:
            list = find_list([data.parent / f"{split}.txt", data / f"{split}.txt"], f"LRS2 list {split}.txt",
                             "LRS2's lists are not redistributable: pass list=PATH to your copy")
        sub = data / ("pretrain" if split == "pretrain" else "main")
        problems, records = [], []
        entries = []
        for ln in read_lines(Path(list), "LRS2 list"):
            parts = ln.split()
            cid = parts[0].removesuffix(".mp4")
            entries.append((cid, parts[1] if len(parts) > 1 else None))
        for cid, flag in entries:
            video = sub / f"{cid}.mp4"
            if not (video.is_file() or video.is_symlink()):
                problems.append(Problem(MISSING, cid, str(video), "video not found"))
                continue
            vid = cid.split("/")[0]
            meta = {"programme": vid}
            if flag:
                meta["flag"] = flag
            records.append(_text_record(cid, video, video.with_suffix(".txt"), None, meta, LRS2_EXPECT, problems))
        notes = [f"split list: {list}"] + _documented_note("lrs2", split, len(records), len(entries))
        return DatasetReport("lrs2", split, root, len(entries), records, problems, notes)


class LRS3(Adapter):
    name = "lrs3"
    title = "Lip Reading Sentences 3 (TED)"
    splits = ("test", "trainval", "pretrain")
    default_split = "test"
    layout = "{pretrain,trainval,test}/{ytid}/{utt}.mp4 + .txt"
    licence = "TED talks, CC BY-NC-ND 4.0; obtained from the authors (nothing ships with thgeval)"
    citation = "Afouras, Chung, Zisserman. LRS3-TED: a large-scale dataset for visual speech recognition. arXiv:1809.00496"
    url = "https://www.robots.ox.ac.uk/~vgg/data/lip_reading/lrs3.html"
    options = {"list": "file naming the clips to use ({ytid}/{utt} per line); default: every clip of the split folder"}

    def scan(self, root: Path, split: str, *, list=None) -> DatasetReport:
        folder = root / split
        if not folder.is_dir():
            raise ConfigError(f"lrs3: split folder {folder} not found")
        problems, records = [], []
        if list is not None:
            ids = [ln.split()[0].removesuffix(".mp4").removeprefix(f"{split}/") for ln in read_lines(Path(list), "LRS3 list")]
        else:
            ids = sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.glob("*/*.mp4"))
        for cid in ids:
            video = folder / f"{cid}.mp4"
            if not (video.is_file() or video.is_symlink()):
                problems.append(Problem(MISSING, cid, str(video), "video not found"))
                continue
            talk = cid.split("/")[0]
            records.append(_text_record(cid, video, video.with_suffix(".txt"), talk, {"talk": talk}, LRS3_EXPECT,
                                        problems))
        notes = [f"split list: {list}" if list else f"every clip under {folder}"]
        notes += _documented_note("lrs3", split, len(records), len(ids))
        return DatasetReport("lrs3", split, root, len(ids) if list is not None else None, records, problems, notes)


class LRW(Adapter):
    name = "lrw"
    title = "Lip Reading in the Wild (BBC, 500 words)"
    splits = ("test", "val", "train")
    default_split = "test"
    layout = "lipread_mp4/{WORD}/{split}/{WORD}_{NNNNN}.mp4"
    licence = "BBC research licence: no redistribution (nothing of it ships with thgeval)"
    citation = "Chung, Zisserman. Lip Reading in the Wild. ACCV 2016"
    url = "https://www.robots.ox.ac.uk/~vgg/data/lip_reading/lrw1.html"
    options = {"list": "file naming the clips ({WORD}/{split}/{WORD}_{NNNNN} per line) or the words (one per line)"}

    def scan(self, root: Path, split: str, *, list=None) -> DatasetReport:
        data = root / "lipread_mp4" if (root / "lipread_mp4").is_dir() else root
        words = sorted(d.name for d in data.iterdir() if d.is_dir() and re.fullmatch(r"[A-Z']+", d.name))
        if not words:
            raise ConfigError(f"lrw: no word folders (ABOUT/, …) under {data}")
        problems, records, notes = [], [], []
        clip_ids: list[str] | None = None
        if list is not None:
            lines = [ln.split()[0] for ln in read_lines(Path(list), "LRW list")]
            if all("/" not in ln and "_" not in ln for ln in lines):
                words = sorted(set(lines))
            else:
                clip_ids = [ln.removesuffix(".mp4") for ln in lines]
        if clip_ids is None:
            clip_ids = []
            for w in words:
                folder = data / w / split
                if not folder.is_dir():
                    problems.append(Problem(MISSING, w, str(folder), f"no {split} folder for this word"))
                    continue
                present = [f"{w}/{split}/{p.stem}" for p in sorted(folder.glob("*.mp4"))]
                if split in ("val", "test"):
                    # val and test hold WORD_00001 … WORD_00050 for every word
                    numbered = [f"{w}/{split}/{w}_{i:05d}" for i in range(1, LRW_PER_WORD + 1)]
                    extra = sorted(set(present) - set(numbered))
                    problems += [Problem(UNEXPECTED, c, str(data / f"{c}.mp4"), f"not one of {w}_00001 … "
                                         f"{w}_{LRW_PER_WORD:05d}") for c in extra]
                    present = numbered
                clip_ids += present
            if split in ("val", "test"):
                expected = LRW_PER_WORD * len(words)
                if len(words) != LRW_WORDS:
                    notes.append(f"{len(words)} word folders found; LRW has {LRW_WORDS}")
            else:
                expected = None
        else:
            expected = len(clip_ids)
        for cid in clip_ids:
            video = data / f"{cid}.mp4"
            word = cid.split("/")[0]
            if not (video.is_file() or video.is_symlink()):
                problems.append(Problem(MISSING, cid, str(video), "video not found"))
                continue
            if not re.fullmatch(rf"{re.escape(word)}_\d{{5}}", video.stem):
                problems.append(Problem(BAD_NAME, cid, str(video), f"expected {word}_NNNNN.mp4 in the {word} folder"))
                continue
            records.append(Record(cid, video, video, 25.0, word, None, {"word": word}, LRW_EXPECT))
        notes.append("scored by word accuracy (metric word_acc)")
        return DatasetReport("lrw", split, root, expected, records, problems, notes)
