"""MEAD (Wang et al. 2020): 60 actors, 8 emotions × 3 intensities, 7 camera views.

Layout of the released archives: ``{actor}/video/{view}/{emotion}/level_{n}/{NNN}.mp4`` and
``{actor}/audio/{emotion}/level_{n}/{NNN}.m4a`` (views ``front``, ``down``, ``top``,
``left_30``, ``left_60``, ``right_30``, ``right_60``; neutral has level 1 only). Clips get flat
ids ``{actor}_{emo}_{level}_{NNN}`` (``M003_ang_3_001``, the form emotional-THG code uses);
the long form ``M003_level_3_angry_001`` is kept as an alias. MEAD ships no transcripts and
no split: the test speakers papers use are M003, M030, W009 and W015 (split ``test``; the rest
are ``train``). Transcripts come from a file the user passes (``transcripts=``, ``id TEXT``
lines with either id form, e.g. SPECTRE's ``list_full_mead_annotated.txt``).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from .base import (BAD_NAME, MISSING, NO_TRANSCRIPT, Adapter, DatasetReport, Expect, Problem, Record, read_lines)

EMOTIONS = {"angry": "ang", "contempt": "con", "disgusted": "dis", "fear": "fea", "happy": "hap",
            "neutral": "neu", "sad": "sad", "surprised": "sur"}
VIEWS = ("front", "down", "top", "left_30", "left_60", "right_30", "right_60")
TEST_SPEAKERS = ("M003", "M030", "W009", "W015")
ACTOR = re.compile(r"^[MW]\d{3}$")


def flat_id(actor: str, emotion: str, level: int, utt: str) -> str:
    return f"{actor}_{EMOTIONS[emotion]}_{level}_{utt}"


def long_id(actor: str, emotion: str, level: int, utt: str) -> str:
    return f"{actor}_level_{level}_{emotion}_{utt}"


def read_transcripts(path: Path) -> dict[str, str]:
    """``id TEXT`` lines → id → text (ids in either form)."""
    out = {}
    for ln in read_lines(path, "MEAD transcripts"):
        cid, _, text = ln.partition(" ")
        out[cid.strip()] = text.strip()
    return out


class Mead(Adapter):
    name = "mead"
    title = "MEAD (Multi-view Emotional Audio-visual Dataset)"
    splits = ("test", "train", "all")
    default_split = "test"
    layout = "{actor}/video/{view}/{emotion}/level_{n}/{NNN}.mp4, {actor}/audio/{emotion}/level_{n}/{NNN}.m4a"
    licence = "MEAD licence (research use; obtained from the authors)"
    citation = "Wang, Wu, Song, Yang, Wu, Qian, He, Qiao, Loy. MEAD: A Large-scale Audio-visual Dataset for Emotional Talking-face Generation. ECCV 2020"
    url = "https://wywu.github.io/projects/MEAD/MEAD.html"
    ships_ids = True  # the test speakers
    options = {"view": "camera view (default front)", "emotions": "comma list of emotions (default all)",
               "transcripts": "file of 'id TEXT' lines", "speakers": "comma list of actors (overrides the split)",
               "fps": "frame rate the clips should have (not checked by default)"}

    def scan(self, root: Path, split: str, *, view="front", emotions=None, transcripts=None, speakers=None,
             fps=None) -> DatasetReport:
        if view not in VIEWS:
            raise ConfigError(f"mead: unknown view {view!r}; views: {', '.join(VIEWS)}")
        emos = list(EMOTIONS) if emotions is None else [e.strip() for e in str(emotions).split(",") if e.strip()]
        bad = [e for e in emos if e not in EMOTIONS]
        if bad:
            raise ConfigError(f"mead: unknown emotion(s) {', '.join(bad)}; emotions: {', '.join(EMOTIONS)}")
        actors = sorted(d.name for d in root.iterdir() if d.is_dir() and ACTOR.match(d.name))
        if speakers is not None:
            wanted = [s.strip() for s in str(speakers).split(",") if s.strip()]
        elif split == "test":
            wanted = list(TEST_SPEAKERS)
        elif split == "train":
            wanted = [a for a in actors if a not in TEST_SPEAKERS]
        else:
            wanted = actors
        texts = read_transcripts(Path(transcripts)) if transcripts else {}
        problems, records, notes = [], [], []
        expect = Expect(fps=float(fps) if fps else None, audio=True)
        for actor in wanted:
            vdir = root / actor / "video" / view
            if not vdir.is_dir():
                why = "unpack video.tar first" if (root / actor / "video.tar").is_file() else "folder not found"
                problems.append(Problem(MISSING, actor, str(vdir), why))
                continue
            for emo in emos:
                for ldir in sorted((vdir / emo).glob("level_*")):
                    m = re.fullmatch(r"level_(\d+)", ldir.name)
                    if not m:
                        continue
                    level = int(m.group(1))
                    for p in sorted(ldir.iterdir()):
                        if p.suffix.lower() != ".mp4":
                            continue
                        if not re.fullmatch(r"\d{3}", p.stem):
                            problems.append(Problem(BAD_NAME, p.stem, str(p), "not a three-digit clip number"))
                            continue
                        cid = flat_id(actor, emo, level, p.stem)
                        alias = long_id(actor, emo, level, p.stem)
                        wav = root / actor / "audio" / emo / ldir.name / f"{p.stem}.m4a"
                        text = texts.get(cid) or texts.get(alias)
                        if texts and text is None:
                            problems.append(Problem(NO_TRANSCRIPT, cid, str(transcripts), "not in the transcripts file"))
                        meta = {"actor": actor, "emotion": emo, "level": level, "view": view, "utterance": p.stem,
                                "alias": alias}
                        records.append(Record(cid, p, wav if wav.is_file() else p, float(fps) if fps else None,
                                              text, actor, meta, expect))
        notes.append(f"speakers: {', '.join(wanted)}; view {view}; MEAD has no official split or clip list")
        return DatasetReport("mead", split, root, None, records, problems, notes)
