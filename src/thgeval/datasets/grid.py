"""GRID audio-visual corpus (Cooke et al. 2006): 34 speakers × 1000 six-word commands.

Layouts read (one speaker folder per speaker; the adapter looks in each):

- videos ``s{N}/{utt}.mpg`` (Zenodo 3625687, the original site), or ``s{N}/video/mpg_6000/{utt}.mpg``
  (LipNet's layout); any of .mpg/.mp4/.avi/.mov below the speaker folder;
- alignments ``alignments/s{N}/{utt}.align`` (Zenodo), ``align/s{N}/…`` or ``s{N}/align/…``
  (LipNet, the original ``s{N}.tar``); lines ``START END WORD`` (CRLF), times in 1/25000 s
  (1000 per video frame at 25 fps), ``sil`` and ``sp`` are silence;
- separate audio ``audio_25k/s{N}/{utt}.wav`` where present (else the video's own track).

The transcript also follows from the utterance name, six letters from the GRID grammar
(command, colour, preposition, letter, digit, adverb): ``bbaf2n`` = "bin blue at f two now".
Speaker 21's video was never released. The Zenodo copy files several speakers' alignments
under another speaker's folder; lhotse's GRID recipe (``lhotse/recipes/grid.py``, commit
aea7705d, 2025) fixes it with a fixed speaker map. We detect it from the data (a speaker's
align files and videos name different utterances), take the alignments from the folder that
lhotse's map names (or, failing that, from whichever folder matches the videos), and report it.

Splits (Assael et al. 2016, LipNet): ``unseen-test`` speakers s1, s2, s20, s22 and
``unseen-train`` the rest; ``overlapped-test`` / ``overlapped-train`` (255 random sentences
per speaker held out) need the list the user evaluates on (``list=``, lines such as
``s14/video/mpg_6000/bbaq7n``, ``s14/bbaq7n`` or ``s14_bbaq7n``), since the split is random.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from ..errors import ConfigError
from .base import (MISASSIGNED, MISSING, NO_TRANSCRIPT, TRANSCRIPT_MISMATCH, BAD_NAME, Adapter, DatasetReport,
                   Expect, Problem, Record, read_lines)

COMMANDS = {"b": "bin", "l": "lay", "p": "place", "s": "set"}
COLOURS = {"b": "blue", "g": "green", "r": "red", "w": "white"}
PREPOSITIONS = {"a": "at", "b": "by", "i": "in", "w": "with"}
LETTERS = {c: c for c in "abcdefghijklmnopqrstuvxyz"}  # every letter but w
DIGITS = {"z": "zero", "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
          "6": "six", "7": "seven", "8": "eight", "9": "nine"}
ADVERBS = {"a": "again", "n": "now", "p": "please", "s": "soon"}
GRAMMAR = (COMMANDS, COLOURS, PREPOSITIONS, LETTERS, DIGITS, ADVERBS)
UTTERANCE = re.compile(r"^[blps][bgrw][abiw][a-vx-z][0-9z][anps]$")

ALIGN_UNITS_PER_SECOND = 25000  # 1000 per frame at 25 fps
SILENCE = frozenset({"sil", "sp"})
SPEAKERS = tuple(f"s{i}" for i in range(1, 35))
NO_VIDEO = frozenset({"s21"})
UNSEEN_TEST = ("s1", "s2", "s20", "s22")
UTTERANCES_PER_SPEAKER = 1000
VIDEO_EXTS = (".mpg", ".mpeg", ".mp4", ".avi", ".mov")

# lhotse's fix for the Zenodo copy: speaker → the Zenodo alignment folder holding its files.
LHOTSE_ALIGN_FIX = {
    "s5": "s6", "s6": "s5", "s10": "s13", "s11": "s10", "s12": "s11", "s13": "s12", "s14": "s15",
    "s15": "s14", "s18": "s19", "s19": "s18", "s20": "s21", "s22": "s23", "s23": "s22", "s26": "s27",
    "s27": "s26", "s28": "s29", "s29": "s28", "s32": "s33", "s33": "s32",
}
MATCH_SHARE = 0.5  # share of a speaker's videos whose utterances its align folder must name


def words_from_name(utt: str) -> list[str]:
    """The six words an utterance name encodes (``'bbaf2n'`` → bin blue at f two now).

    Raises ValueError for a name outside the GRID grammar.
    """
    u = utt.lower()
    if not UTTERANCE.match(u):
        raise ValueError(f"{utt!r} is not a GRID utterance name (command colour preposition letter digit adverb)")
    return [table[c] for table, c in zip(GRAMMAR, u)]


def transcript_from_name(utt: str) -> str:
    return " ".join(words_from_name(utt))


def parse_align(text: str) -> list[tuple[float, float, str]]:
    """``START END WORD`` lines (any line ending) → [(start_s, end_s, word)], times in seconds."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ValueError(f"line {n}: expected 'START END WORD', got {line.strip()!r}")
        start, end = int(parts[0]), int(parts[1])
        out.append((start / ALIGN_UNITS_PER_SECOND, end / ALIGN_UNITS_PER_SECOND, parts[2]))
    return out


def transcript_from_align(items: Iterable[tuple[float, float, str]]) -> str:
    """The spoken words of an alignment, silences (``sil``, ``sp``) dropped."""
    return " ".join(w for _, _, w in items if w.lower() not in SILENCE)


def _speaker_key(name: str) -> int:
    return int(name[1:])


def _align_dirs(root: Path, align_root: Path | None) -> dict[str, Path]:
    """Speaker folder name → folder of its ``.align`` files, from every known layout."""
    found: dict[str, Path] = {}
    bases = [align_root] if align_root is not None else [root / "alignments", root / "align"]
    for base in bases:
        if base is not None and base.is_dir():
            for d in base.iterdir():
                if d.is_dir() and re.fullmatch(r"s\d+", d.name) and any(d.glob("*.align")):
                    found.setdefault(d.name, d)
    if align_root is None:
        for d in root.iterdir():
            if d.is_dir() and re.fullmatch(r"s\d+", d.name):
                for sub in (d / "align", d / "alignments"):
                    if sub.is_dir() and any(sub.glob("*.align")):
                        found.setdefault(d.name, sub)
    return found


def _videos(speaker_dir: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(speaker_dir.rglob("*")):
        if p.suffix.lower() in VIDEO_EXTS and (p.is_file() or p.is_symlink()):
            out.setdefault(p.stem, p)
    return out


def _overlap(videos: set[str], aligns: set[str]) -> float:
    return len(videos & aligns) / len(videos) if videos else 0.0


def parse_id_list(lines: list[str]) -> list[tuple[str, str]]:
    """GRID list lines → (speaker, utterance): ``s14/video/mpg_6000/bbaq7n``, ``s14/bbaq7n``,
    ``s14_bbaq7n``, ``s14 bbaq7n`` (a file extension is ignored)."""
    out = []
    for ln in lines:
        tok = ln.split()[0] if len(ln.split()) == 1 else "/".join(ln.split()[:2])
        parts = [p for p in re.split(r"[/\\]", tok) if p]
        spk = next((p for p in parts if re.fullmatch(r"s\d+", p)), None)
        utt = Path(parts[-1]).stem if parts else ""
        if spk is None and "_" in utt:
            spk, _, utt = utt.partition("_")
        if spk is None or not re.fullmatch(r"s\d+", spk):
            raise ConfigError(f"GRID list line {ln!r}: no speaker (s1 … s34) in it")
        out.append((spk, utt))
    return out


class Grid(Adapter):
    name = "grid"
    title = "GRID audio-visual sentence corpus"
    splits = ("all", "unseen-test", "unseen-train", "overlapped-test", "overlapped-train")
    default_split = "unseen-test"
    layout = "s{N}/{utt}.mpg (or s{N}/video/mpg_6000/), alignments/s{N}/{utt}.align (or s{N}/align/)"
    licence = "CC BY 4.0 (Zenodo 3625687)"
    citation = "Cooke, Barker, Cunningham, Shao. An audio-visual corpus for speech perception and automatic speech recognition. JASA 2006"
    url = "https://zenodo.org/record/3625687"
    ships_ids = True  # the unseen split is a list of speakers
    options = {
        "list": "file naming the split's utterances (needed for overlapped-*)",
        "align_root": "folder holding s{N}/ alignment folders, if not under ROOT",
        "align_fix": "auto (detect and fix misfiled alignments), lhotse (apply lhotse's map), none",
        "transcript": "align (default; the file name where no align file) or filename",
    }

    def scan(self, root: Path, split: str, *, list=None, align_root=None, align_fix="auto",
             transcript="align") -> DatasetReport:
        if align_fix not in ("auto", "lhotse", "none"):
            raise ConfigError(f"grid: align_fix must be auto, lhotse or none; got {align_fix!r}")
        if transcript not in ("align", "filename"):
            raise ConfigError(f"grid: transcript must be align or filename; got {transcript!r}")
        problems: list[Problem] = []
        notes: list[str] = []
        speaker_dirs = {d.name: d for d in root.iterdir() if d.is_dir() and re.fullmatch(r"s\d+", d.name)}
        videos = {s: _videos(d) for s, d in speaker_dirs.items()}
        videos = {s: v for s, v in videos.items() if v}
        aligns = _align_dirs(root, Path(align_root) if align_root else None)
        align_ids = {s: {p.stem for p in d.glob("*.align")} for s, d in aligns.items()}
        if not videos:
            raise ConfigError(f"grid: no speaker folders with videos (s1/…/*.mpg) under {root}")

        chosen = self._choose_aligns(videos, align_ids, align_fix, problems, notes, aligns)

        wanted, listed = self._selection(split, list, videos)
        expected_ids: list[tuple[str, str]] = []
        expected_n = 0
        if listed is not None:
            expected_ids = listed
            notes.append(f"split from {list}: {len(listed)} utterances")
        else:
            for spk in sorted(wanted, key=_speaker_key):
                if spk in NO_VIDEO:
                    notes.append(f"{spk}: GRID has no video of this speaker (skipped)")
                    continue
                src = chosen.get(spk)
                utts = set(videos.get(spk, {})) | (align_ids.get(src, set()) if src else set())
                if not utts:
                    problems.append(Problem(MISSING, spk, str(root / spk), "speaker folder not found"))
                    notes.append(f"{spk}: {UTTERANCES_PER_SPEAKER} utterances expected by design, none found")
                    expected_n += UTTERANCES_PER_SPEAKER
                    continue
                expected_ids += [(spk, u) for u in sorted(utts)]
        expected_n += len(expected_ids)

        records: list[Record] = []
        seen = set()
        for spk, utt in expected_ids:
            cid = f"{spk}/{utt}"
            if cid in seen:
                continue
            seen.add(cid)
            video = videos.get(spk, {}).get(utt)
            if video is None:
                problems.append(Problem(MISSING, cid, str(root / spk / f"{utt}.mpg"), "video not found"))
                continue
            rec = self._record(root, spk, utt, video, aligns.get(chosen.get(spk, "")), transcript, problems)
            if rec is not None:
                records.append(rec)
        return DatasetReport("grid", split, root, expected_n, records, problems, notes)

    # --- pieces --------------------------------------------------------------------------
    @staticmethod
    def _selection(split, list_path, videos):
        if split.startswith("overlapped"):
            if list_path is None:
                raise ConfigError(
                    f"grid: split {split} is a random hold-out; pass the list you evaluate on "
                    "(list=PATH, e.g. LipNet-PyTorch's data/overlap_val.txt)"
                )
            return set(), parse_id_list(read_lines(Path(list_path), "GRID list"))
        if list_path is not None:
            return set(), parse_id_list(read_lines(Path(list_path), "GRID list"))
        if split == "unseen-test":
            return set(UNSEEN_TEST), None
        if split == "unseen-train":
            return {s for s in set(SPEAKERS) | set(videos) if s not in UNSEEN_TEST}, None
        return set(SPEAKERS) | set(videos), None

    @staticmethod
    def _choose_aligns(videos, align_ids, mode, problems, notes, aligns) -> dict[str, str]:
        """Speaker → the alignment folder (by name) that holds its files."""
        chosen: dict[str, str] = {}
        for spk in sorted(videos, key=_speaker_key):
            v = set(videos[spk])
            if mode == "lhotse":
                src = LHOTSE_ALIGN_FIX.get(spk, spk)
                if src in align_ids:
                    chosen[spk] = src
                continue
            own = align_ids.get(spk, set())
            if not own and not align_ids:
                continue
            share = _overlap(v, own)
            if not own and mode == "none":
                problems.append(Problem(NO_TRANSCRIPT, spk, None, "no alignment folder of its own "
                                        "(align_fix=none): transcripts from file names"))
                continue
            if share >= MATCH_SHARE or mode == "none":
                if own:
                    chosen[spk] = spk
                if own and share < MATCH_SHARE:
                    problems.append(Problem(
                        MISASSIGNED, spk, str(aligns[spk]),
                        f"its align files name other utterances than its videos ({len(v & own)} of {len(v)} shared); "
                        "not fixed (align_fix=none): transcripts from file names",
                    ))
                    chosen.pop(spk)
                continue
            # Misfiled: lhotse's map first, else whichever folder matches the videos best.
            fix = LHOTSE_ALIGN_FIX.get(spk)
            how = "lhotse's GRID map"
            if fix is None or _overlap(v, align_ids.get(fix, set())) < MATCH_SHARE:
                best = max(align_ids, key=lambda s: _overlap(v, align_ids[s]))
                fix, how = (best, "content match") if _overlap(v, align_ids[best]) >= MATCH_SHARE else (None, "")
            detail = (f"its align folder names other utterances than its videos ({len(v & own)} of {len(v)} shared)"
                      if own else "no align folder of its own")
            if fix is None:
                if own:
                    problems.append(Problem(MISASSIGNED, spk, str(aligns[spk]),
                                            detail + "; no folder matches: transcripts from file names"))
                else:
                    problems.append(Problem(NO_TRANSCRIPT, spk, None,
                                            "no alignment folder matches its videos: transcripts from file names"))
                continue
            chosen[spk] = fix
            problems.append(Problem(MISASSIGNED, spk, str(aligns[fix]),
                                    f"{detail}; alignments taken from folder {fix} ({how})"))
        fixed = [p for p in problems if p.kind == MISASSIGNED and "taken from" in p.detail]
        if fixed:
            notes.append("GRID alignment folders filed under the wrong speakers (the Zenodo copy's known "
                         f"mix-up) fixed for {len(fixed)} speakers: "
                         + ", ".join(f"{p.id}←{Path(p.path).name}" for p in fixed))
        return chosen

    @staticmethod
    def _record(root, spk, utt, video, align_dir, mode, problems) -> Record | None:
        cid = f"{spk}/{utt}"
        try:
            from_name = transcript_from_name(utt)
        except ValueError as e:
            from_name = None
            problems.append(Problem(BAD_NAME, cid, str(video), str(e)))
        from_align, items = None, None
        align_path = align_dir / f"{utt}.align" if align_dir is not None else None
        if align_path is not None and align_path.is_file():
            try:
                items = parse_align(align_path.read_text(encoding="utf-8", errors="replace"))
                from_align = transcript_from_align(items) or None
            except ValueError as e:
                problems.append(Problem(NO_TRANSCRIPT, cid, str(align_path), f"unreadable align file: {e}"))
            if from_align is None and items is not None:
                problems.append(Problem(NO_TRANSCRIPT, cid, str(align_path), "align file names no word"))
        elif align_dir is not None:
            why = "transcript from the file name" if from_name else "and the name is no GRID utterance: no transcript"
            problems.append(Problem(NO_TRANSCRIPT, cid, str(align_path), f"no align file: {why}"))
        if from_align and from_name and from_align.lower() != from_name:
            problems.append(Problem(TRANSCRIPT_MISMATCH, cid, str(align_path),
                                    f"align says {from_align!r}, the file name {from_name!r}"))
        if mode == "align" and from_align:
            text, source = from_align, "align"
        else:
            text, source = from_name, "filename"
        if text is None:
            return None
        wav = root / "audio_25k" / spk / f"{utt}.wav"
        meta = {"utterance": utt, "transcript_source": source,
                "align": None if align_path is None or items is None else str(align_path)}
        if items is not None:
            meta["words"] = [[round(s, 5), round(e, 5), w] for s, e, w in items if w.lower() not in SILENCE]
        return Record(
            id=cid, video=video, audio=wav if wav.is_file() else video, fps=25.0, transcript=text,
            speaker=spk, metadata=meta,
            expect=Expect(fps=25.0, sizes=((360, 288), (720, 576)), frames=75, audio=True),
        )
