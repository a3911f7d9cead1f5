"""Pairing generated clips with ground truth: by file stem, or by an explicit manifest.

Never ``zip(sorted(a), sorted(b))``: pairs are made by name and whatever is left unmatched
is reported, so a missing clip can never shift every later comparison.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..metrics.sample import REAL  # noqa: F401  the method name of the GT clips' no-reference rows

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .avi .mpg .mpeg .mov .mkv .webm .flv .wmv .ts .mts .m2ts .3gp .ogv .y4m .gif".split()
)


@dataclass(frozen=True)
class Pair:
    """One clip of one method: its prediction and, if there is one, its ground truth."""

    method: str
    clip: str
    pred: Path | None
    gt: Path | None


@dataclass
class Pairing:
    """The pairs to evaluate and the problems pairing found (reported, never dropped)."""

    gt: dict[str, Path]
    pairs: list[Pair]
    methods: list[str]
    problems: list[str] = field(default_factory=list)
    audio: dict[str, Path] = field(default_factory=dict)  # clip -> the clip whose audio drives it

    def clips(self) -> list[str]:
        return sorted({p.clip for p in self.pairs} | set(self.gt))


def list_clips(folder: str | os.PathLike) -> tuple[dict[str, Path], list[str]]:
    """Video files under ``folder`` keyed by their path relative to it, without extension."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory")
    found: dict[str, Path] = {}
    problems = []
    for p in sorted(root.rglob("*")):
        if p.is_dir() or p.name.startswith(".") or p.suffix.lower() not in VIDEO_EXTENSIONS:
            continue
        key = p.relative_to(root).with_suffix("").as_posix()
        if key in found:
            problems.append(f"{p}: skipped, {found[key].name} has the same name {key!r}")
            continue
        found[key] = p
    return found, problems


def parse_pred_args(specs: list[str]) -> dict[str, Path]:
    """``['jpeg=out/jpeg', 'blur=out/blur']`` → ``{'jpeg': Path, ...}``; a bare DIR is named by its folder."""
    methods: dict[str, Path] = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep:
            name, folder = Path(spec).name, spec
        name = name.strip()
        if not name or name == REAL:
            raise ConfigError(f"--pred {spec!r}: give a method name other than {REAL!r}, as NAME=DIR")
        if name in methods:
            raise ConfigError(f"--pred {spec!r}: method {name!r} given twice")
        methods[name] = Path(folder)
    return methods


def pair_folders(gt_dir: str | os.PathLike | None, preds: dict[str, Path]) -> Pairing:
    """Pair every method's clips with GT clips of the same name."""
    gt, problems = list_clips(gt_dir) if gt_dir is not None else ({}, [])
    pairs: list[Pair] = []
    for method, folder in preds.items():
        clips, more = list_clips(folder)
        problems += more
        if not clips:
            problems.append(f"{method}: no video files found in {folder}")
        for key in sorted(set(clips) | set(gt)):
            pairs.append(Pair(method, key, clips.get(key), gt.get(key)))
    return Pairing(gt=gt, pairs=pairs, methods=list(preds), problems=problems)


def pair_manifest(path: str | os.PathLike) -> Pairing:
    """A CSV with columns ``method, pred, gt`` (and optionally ``clip``); relative paths are
    taken from the manifest's folder; ``gt`` may be empty for no-reference evaluation."""
    path = Path(path)
    base = path.parent
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read manifest ({e.strerror})") from None
    need = {"method", "pred", "gt"}
    if not rows or not need <= set(rows[0]):
        raise ConfigError(f"{path}: manifest needs the columns {', '.join(sorted(need))} (and optionally clip)")
    gt: dict[str, Path] = {}
    pairs, methods, seen, problems = [], [], set(), []
    for i, row in enumerate(rows, start=2):
        method = (row["method"] or "").strip()
        pred = (row["pred"] or "").strip()
        if not method or method == REAL:
            raise ConfigError(f"{path}:{i}: method must be a name other than {REAL!r}")
        g = (row.get("gt") or "").strip()
        clip = (row.get("clip") or "").strip() or Path(pred or g).stem
        if (method, clip) in seen:
            problems.append(f"{path}:{i}: {method}/{clip} listed twice; the later row is ignored")
            continue
        seen.add((method, clip))
        if method not in methods:
            methods.append(method)
        gpath = (base / g) if g else None
        if gpath is not None:
            if clip in gt and gt[clip] != gpath:
                raise ConfigError(f"{path}:{i}: clip {clip!r} has two GT files ({gt[clip]} and {gpath})")
            gt[clip] = gpath
        pairs.append(Pair(method, clip, (base / pred) if pred else None, gpath))
    return Pairing(gt=gt, pairs=pairs, methods=methods, problems=problems)


def inside(root: Path, rel: str, where: str) -> Path:
    """``root / rel``, refusing a path that escapes ``root`` (``..``, absolute, symlinks out)."""
    p = (root / rel)
    try:
        p.resolve().relative_to(root.resolve())
    except ValueError:
        raise ConfigError(f"{where}: {rel!r} points outside {root}") from None
    return p


def pair_wav2lip_filelist(filelist: str | os.PathLike, data_root: str | os.PathLike,
                          preds: dict[str, Path]) -> Pairing:
    """Wav2Lip's evaluation layout (``evaluation/gen_videos_from_filelist.py``).

    Each line of the filelist is ``AUDIO_SRC VIDEO`` (paths under ``data_root`` without
    ``.mp4``); a method's result for line ``i`` (0-based) is ``{i}.mp4`` in its folder. The GT
    of clip ``i`` is the VIDEO source (its real row is scored with its own audio); the audio
    that drives the generated clip is AUDIO_SRC's.
    """
    path, root = Path(filelist), Path(data_root)
    if not root.is_dir():
        raise ConfigError(f"--data-root {root}: not a directory")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read filelist ({e.strerror})") from None
    gt, audio, problems = {}, {}, []
    for i, line in enumerate(lines):
        parts = line.split()
        if len(parts) != 2:
            raise ConfigError(f"{path}:{i + 1}: expected 'AUDIO_SRC VIDEO', got {line.strip()!r}")
        clip = str(i)
        audio[clip] = inside(root, parts[0] + ".mp4", f"{path}:{i + 1}")
        gt[clip] = inside(root, parts[1] + ".mp4", f"{path}:{i + 1}")
        for kind, p in (("audio source", audio[clip]), ("video", gt[clip])):
            if not p.is_file():
                problems.append(f"{path}:{i + 1}: {kind} {p} not found")
    pairs = []
    for method, folder in preds.items():
        found, more = list_clips(folder)
        problems += more
        for extra in sorted(set(found) - set(gt)):
            problems.append(f"{method}: {found[extra].name} matches no line of {path.name}; ignored")
        for clip in gt:
            pairs.append(Pair(method, clip, found.get(clip), gt[clip]))
    return Pairing(gt=gt, pairs=pairs, methods=list(preds), problems=problems, audio=audio)
