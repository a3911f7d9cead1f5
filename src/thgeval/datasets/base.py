"""What every dataset adapter returns: records, the problems found, and the checks on files.

An adapter reads a dataset the user already has (nothing is downloaded) and says, for one
split, which clips it expected, which it found, and what is wrong with each file that is
missing, unreadable or not as the split says. Probing files (``thgeval.io.probe``: a packet
scan, no decoding) is optional because it costs time on 100,000 files.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from ..errors import ClipError, ConfigError

# Kinds of problem a report can hold.
MISSING = "missing"  # the split names a clip whose file is absent
UNREADABLE = "unreadable"  # the file exists but FFmpeg cannot read it
FPS = "fps"  # frame rate differs from the split's
SIZE = "size"  # frame size differs from the split's
FRAMES = "frames"  # frame count differs from the split's
NO_AUDIO = "no-audio"  # the split has audio, the file has none
NO_TRANSCRIPT = "no-transcript"  # the transcript file is missing or empty
TRANSCRIPT_MISMATCH = "transcript-mismatch"  # two sources of the transcript disagree
EXCLUDED = "excluded"  # a file the dataset's own documentation says is broken
UNEXPECTED = "unexpected"  # a file the split does not name, or in the wrong place
MISASSIGNED = "misassigned"  # metadata filed under the wrong speaker (and fixed)
BAD_NAME = "bad-name"  # a file name that does not follow the dataset's naming scheme
KINDS = (MISSING, UNREADABLE, FPS, SIZE, FRAMES, NO_AUDIO, NO_TRANSCRIPT, TRANSCRIPT_MISMATCH,
         EXCLUDED, UNEXPECTED, MISASSIGNED, BAD_NAME)

FPS_TOLERANCE = 0.01  # relative
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".flv")
FRAME_TOLERANCE = 1  # decoders may differ by one frame at the end


@dataclass(frozen=True)
class Expect:
    """What the split says a file is: frame rate, frame size(s), frame count, audio.

    ``sizes`` lists the allowed (width, height); ``None`` fields are not checked.
    """

    fps: float | None = None
    sizes: tuple[tuple[int, int], ...] | None = None
    frames: int | None = None
    audio: bool | None = None


@dataclass(frozen=True)
class Record:
    """One clip of a dataset split.

    ``id`` is the clip's key, the path relative to a method's output folder without
    extension that ``thgeval eval`` pairs by (``s1/bbaf2n``, ``M003_ang_3_001``). ``video`` is
    the file; ``audio`` the file holding its audio (the video itself, a separate file, or
    None); ``fps`` the split's frame rate (the probed one after :meth:`DatasetReport.probe`);
    ``transcript`` the spoken text or None; ``speaker`` the speaker id; ``metadata`` anything
    else the dataset says (JSON-able).
    """

    id: str
    video: Path
    audio: Path | None
    fps: float | None
    transcript: str | None
    speaker: str | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "video": str(self.video), "audio": None if self.audio is None else str(self.audio),
            "fps": self.fps, "transcript": self.transcript, "speaker": self.speaker, "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one clip (or one folder): ``kind`` is one of :data:`KINDS`."""

    kind: str
    id: str
    path: str | None
    detail: str

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.kind}: {self.id}{where}: {self.detail}"


@dataclass
class DatasetReport:
    """The outcome of reading one split: records found, what was expected, what is wrong.

    ``expected`` is the number of clips the split names (None when the dataset has no list
    and none was given); ``records`` the usable clips found; ``problems`` every file missing,
    unreadable or not as the split says; ``notes`` what the adapter decided (a fix it
    applied, where a list came from).
    """

    dataset: str
    split: str
    root: Path
    expected: int | None
    records: list[Record]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    probed: bool = False

    @property
    def found(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def problems_of(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}

    def gt_paths(self) -> dict[str, Path]:
        """Clip id → GT video: what ``thgeval eval`` pairs a method's ``{id}.mp4`` with."""
        return {r.id: r.video for r in self.records}

    def transcripts(self) -> dict[str, str]:
        """Clip id → transcript, for clips that have one (``evaluate(transcripts=…)``)."""
        return {r.id: r.transcript for r in self.records if r.transcript is not None}

    def write_transcripts(self, path: str | os.PathLike) -> Path:
        """The transcripts as an ``id text`` file (``thgeval eval --transcripts``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{i} {t}\n" for i, t in self.transcripts().items()), encoding="utf-8")
        return path

    def pairs(self, preds: Mapping[str, str | os.PathLike]) -> tuple[list[dict[str, str]], list[str]]:
        """Manifest rows (``method, clip, pred, gt``) pairing each method's ``{id}.{any video
        extension}`` under its folder with the split's GT clips, and one line per clip a
        method lacks (the run reports those as failed, never silently drops them)."""
        rows, missing = [], []
        for method, folder in preds.items():
            folder = Path(folder)
            for r in self.records:
                hits = [folder / f"{r.id}{ext}" for ext in VIDEO_EXTENSIONS if (folder / f"{r.id}{ext}").is_file()]
                if not hits:
                    missing.append(f"{method}: no clip {r.id} in {folder}")
                rows.append({"method": method, "clip": r.id, "pred": str(hits[0]) if hits else "", "gt": str(r.video)})
        return rows, missing

    def summary(self) -> str:
        exp = "?" if self.expected is None else str(self.expected)
        parts = [f"{self.dataset} {self.split}: {self.found} clips found of {exp} expected"]
        counts = self.counts()
        if counts:
            parts.append("problems: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        if not self.probed:
            parts.append("files not probed (fps, size, audio unchecked)")
        return "; ".join(parts)

    def probe(self, workers: int | None = None, limit: int | None = None) -> "DatasetReport":
        """Probe every record's file (or the first ``limit``) and check it against the split.

        Unreadable files leave the records and become problems; a file with no audio track
        (and no separate audio file) keeps its record with ``audio=None``; ``fps`` becomes the
        probed rate. Returns self.
        """
        todo = self.records if limit is None else self.records[:limit]
        results = probe_all([r.video for r in todo], workers)
        replaced: dict[str, Record] = {}
        dropped: set[str] = set()
        for rec, (info, err) in zip(todo, results):
            if err is not None:
                self.problems.append(Problem(UNREADABLE, rec.id, str(rec.video), err))
                dropped.add(rec.id)
                continue
            self.problems.extend(check(rec, info))
            replaced[rec.id] = _with_probe(rec, info)
        self.probed = len(todo) == len(self.records)
        if not self.probed:
            self.notes.append(f"probed the first {len(todo)} of {len(self.records)} files only")
        self.records = [replaced.get(r.id, r) for r in self.records if r.id not in dropped]
        return self


def _with_probe(rec: Record, info) -> Record:
    audio = rec.audio
    if audio == rec.video and not info.has_audio:
        audio = None
    return replace(rec, fps=info.fps, audio=audio)


def check(rec: Record, info) -> list[Problem]:
    """Compare a probed file (:class:`thgeval.io.ClipInfo`) with what its split says."""
    e, out, path = rec.expect, [], str(rec.video)
    if e.fps is not None and abs(info.fps - e.fps) > FPS_TOLERANCE * e.fps:
        out.append(Problem(FPS, rec.id, path, f"{info.fps:g} fps, the split has {e.fps:g}"))
    if e.sizes is not None and (info.width, info.height) not in e.sizes:
        want = " or ".join(f"{w}×{h}" for w, h in e.sizes)
        out.append(Problem(SIZE, rec.id, path, f"{info.width}×{info.height}, the split has {want}"))
    if e.frames is not None and abs(info.frame_count - e.frames) > FRAME_TOLERANCE:
        out.append(Problem(FRAMES, rec.id, path, f"{info.frame_count} frames, the split has {e.frames}"))
    if e.audio and not info.has_audio and (rec.audio is None or rec.audio == rec.video):
        out.append(Problem(NO_AUDIO, rec.id, path, "no audio track (and no separate audio file)"))
    return out


def probe_all(paths: list[Path], workers: int | None = None) -> list[tuple[Any, str | None]]:
    """``(ClipInfo, None)`` or ``(None, reason)`` per path, probed in threads (PyAV demuxing
    releases the GIL)."""
    from ..io import probe

    def one(p):
        try:
            return probe(p), None
        except ClipError as e:
            return None, e.problem
        except Exception as e:  # an FFmpeg failure the io layer did not classify
            return None, f"{type(e).__name__}: {e}"

    if not paths:
        return []
    n = workers or min(32, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, paths))


class Adapter:
    """A dataset's layout and splits. Subclasses set the class attributes and implement
    :meth:`scan`; ``options`` names the keyword options :meth:`scan` accepts (a misspelt
    option is an error, never silently ignored)."""

    name: str = ""
    title: str = ""
    splits: tuple[str, ...] = ()
    default_split: str = ""
    layout: str = ""  # the folder layout, as a user would see it
    licence: str = ""
    citation: str = ""
    url: str = ""
    ships_ids: bool = False  # True where thgeval itself carries the ids of a split
    options: Mapping[str, str] = MappingProxyType({})  # option → what it means

    def scan(self, root: Path, split: str, **options) -> DatasetReport:  # pragma: no cover
        raise NotImplementedError

    def open(self, root: str | os.PathLike, split: str | None = None, *, probe: bool = False,
             workers: int | None = None, **options) -> DatasetReport:
        """Read ``root`` for ``split`` (default :attr:`default_split`); probe the files if asked."""
        root = Path(root).expanduser()
        if not root.is_dir():
            raise ConfigError(f"{self.name}: root {root} is not a directory")
        split = split or self.default_split
        if split not in self.splits:
            raise ConfigError(f"{self.name}: unknown split {split!r}; splits: {', '.join(self.splits)}")
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "none"
            raise ConfigError(f"{self.name}: unknown option(s) {', '.join(unknown)}; options: {known}")
        report = self.scan(root, split, **options)
        if probe:
            report.probe(workers)
        return report


def missing_problems(expected_ids: Iterable[str], found_ids: Iterable[str], where) -> list[Problem]:
    """One MISSING problem per expected id not found; ``where(id)`` gives the path looked at."""
    found = set(found_ids)
    return [Problem(MISSING, i, str(where(i)), "file not found") for i in expected_ids if i not in found]


def read_lines(path: Path, what: str) -> list[str]:
    """Non-empty stripped lines of a text file (any line ending); a clear error if absent."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror or e}") from None
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def find_list(candidates: Iterable[Path], what: str, hint: str) -> Path:
    """The first existing file among ``candidates``, else a ConfigError that says what to pass."""
    cands = list(candidates)
    for c in cands:
        if c.is_file():
            return c
    looked = ", ".join(str(c) for c in cands)
    raise ConfigError(f"{what} not found (looked for {looked}); {hint}")
