"""CREMA-D (Cao et al. 2014): 91 actors say 12 sentences in 6 emotions.

Files ``{actor}_{SENTENCE}_{EMOTION}_{LEVEL}`` (``1001_DFA_ANG_XX``) in ``VideoFlash/`` (.flv;
converted copies in any video format are found anywhere under the root) with audio in
``AudioWAV/``. The list of clips is ``SentenceFilenames.csv`` in the repository
(CheyneyComputerScience/CREMA-D, 7442 clips). The transcript follows from the sentence code
(the README's table). The README names files that are broken (very short, no audio, no
duration, or holding every display of a sentence); they are excluded and reported.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ..errors import ConfigError
from .base import (BAD_NAME, EXCLUDED, MISSING, Adapter, DatasetReport, Expect, Problem, Record, read_lines)

SENTENCES = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened", "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about", "TAI": "The airplane is almost full", "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock", "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket", "ITS": "I think I've seen this before", "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
# The README's "do not display correctly" list.
BROKEN = {
    "1076_MTI_NEU_XX": "very short, no audio (README)",
    "1076_MTI_SAD_XX": "error picture, no audio, very short (README)",
    "1064_TIE_SAD_XX": "no duration (README)",
    "1064_IEO_DIS_MD": "a minute long, every display of the sentence (README)",
}
# Files the README says had no audio in their video until 16 Dec 2020 (older copies lack it).
AUDIO_RESTORED_2020 = frozenset("""1005_IWW_DIS_XX 1007_IWL_HAP_XX 1037_DFA_ANG_XX 1037_WSI_DIS_XX 1037_WSI_FEA_XX
1037_WSI_SAD_XX 1039_IWL_SAD_XX 1039_WSI_SAD_XX 1045_ITS_HAP_XX 1045_WSI_DIS_XX 1046_TIE_HAP_XX 1058_IEO_SAD_HI
1061_TIE_ANG_XX 1063_IEO_DIS_HI 1067_IEO_FEA_LO 1068_IEO_SAD_MD 1070_IWL_SAD_XX 1071_WSI_ANG_XX 1072_WSI_ANG_XX
1073_MTI_SAD_XX 1075_IWW_DIS_XX 1075_WSI_DIS_XX 1076_ITH_HAP_XX 1076_ITH_NEU_XX 1076_TAI_NEU_XX 1079_IWL_ANG_XX
1079_TAI_DIS_XX 1091_IWW_FEA_XX""".split())
NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
VIDEO_EXTS = (".flv", ".mp4", ".avi", ".mov", ".mkv", ".webm")


def parse_name(cid: str) -> dict | None:
    m = NAME.match(cid)
    if not m or m.group(2) not in SENTENCES or m.group(3) not in EMOTIONS or m.group(4) not in LEVELS:
        return None
    return {"actor": m.group(1), "sentence": m.group(2), "emotion": EMOTIONS[m.group(3)], "level": LEVELS[m.group(4)]}


def read_sentence_filenames(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    if not rows or "Filename" not in rows[0]:
        raise ConfigError(f"{path}: expected a 'Filename' column (CREMA-D's SentenceFilenames.csv)")
    return [r["Filename"].strip() for r in rows if r["Filename"].strip()]


class CremaD(Adapter):
    name = "crema-d"
    title = "CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)"
    splits = ("all", "list")
    default_split = "all"
    layout = "VideoFlash/{actor}_{SENT}_{EMO}_{LVL}.flv, AudioWAV/….wav, SentenceFilenames.csv"
    licence = "Open Database License (ODbL 1.0); contents under the Database Contents License"
    citation = "Cao, Cooper, Keutmann, Gur, Nenkova, Verma. CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset. IEEE TAC 2014"
    url = "https://github.com/CheyneyComputerScience/CREMA-D"
    options = {"list": "the clips of a split (one name per line; split=list) or SentenceFilenames.csv"}

    def scan(self, root: Path, split: str, *, list=None) -> DatasetReport:
        if split == "list" and list is None:
            raise ConfigError("crema-d: split=list needs list=PATH naming the clips")
        files: dict[str, Path] = {}
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() in VIDEO_EXTS and NAME.match(p.stem):
                # Prefer a converted copy next to the original only if there is no .flv.
                if p.stem not in files or files[p.stem].suffix.lower() != ".flv":
                    files[p.stem] = p
        problems, notes, records = [], [], []
        source = Path(list) if list is not None else root / "SentenceFilenames.csv"
        if source.is_file():
            ids = read_sentence_filenames(source) if source.suffix == ".csv" else [
                Path(ln.split()[0]).stem for ln in read_lines(source, "CREMA-D list")]
            notes.append(f"clip list: {source}")
            expected = len(ids)
        else:
            ids = sorted(files)
            expected = None
            notes.append("no SentenceFilenames.csv: every clip found is used, none can be reported missing")
        for cid in ids:
            info = parse_name(cid)
            if cid in BROKEN:
                problems.append(Problem(EXCLUDED, cid, str(files.get(cid, "")) or None, BROKEN[cid]))
                continue
            video = files.get(cid)
            if video is None:
                problems.append(Problem(MISSING, cid, str(root / "VideoFlash" / f"{cid}.flv"), "video not found"))
                continue
            if info is None:
                problems.append(Problem(BAD_NAME, cid, str(video), "name outside CREMA-D's codes"))
                continue
            wav = root / "AudioWAV" / f"{cid}.wav"
            meta = dict(info)
            if cid in AUDIO_RESTORED_2020:
                meta["note"] = "video had no audio before the 2020-12-16 fix (README)"
            records.append(Record(cid, video, wav if wav.is_file() else video, None, SENTENCES[info["sentence"]],
                                  info["actor"], meta, Expect(audio=True)))
        return DatasetReport("crema-d", split, root, expected, records, problems, notes)
