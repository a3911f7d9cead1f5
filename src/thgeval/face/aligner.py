"""Aligned face clips (``thgeval align``): crops written as video with the clip's audio.

For a GT/pred pair the transforms are computed on the GT clip's face track and applied to
both clips (pred put on GT's timeline and frame size first, as the evaluation does), so
pixel (x, y) of the two crops shows the same place of the scene.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ThgevalError
from ..io import AUDIO_RATE, ClipReader, probe, write_clip
from ..io.conform import ConformPolicy, plan, resize_frames
from .align import TEMPLATES, box_transforms, similarity_transforms, transform_points, warp_frames
from .clip import analyze_clip
from .settings import FaceSettings
from .track import FaceTrack

MODES = ("similarity", "box")
# Files a folder given to ``align`` contributes (the run layer's pairing uses the same list).
VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .avi .mpg .mpeg .mov .mkv .webm .flv .wmv .ts .mts .m2ts .3gp .ogv .y4m .gif".split()
)


@dataclass
class Aligned:
    """What one call of :func:`align_clip` wrote and how well the face fits the crop."""

    source: Path
    output: Path
    gt_output: Path | None
    frames: int
    valid_frames: int
    residual_px: float | None  # similarity mode: mean distance of the 5 template points, crop pixels
    notes: list[str] = field(default_factory=list)


def transforms_for(track: FaceTrack, mode: str = "similarity", size: int = 256, *,
                   template="face", smooth: float = 2.0, scale: float = 0.4) -> np.ndarray:
    """The (T, 2, 3) crop transforms of a track in ``mode`` (see :mod:`thgeval.face.align`)."""
    if mode == "similarity":
        return similarity_transforms(track, size, template, smooth)
    if mode == "box":
        return box_transforms(track, size, scale)
    raise ThgevalError(f"align mode must be one of {', '.join(MODES)}; got {mode!r}")


def template_residual(track: FaceTrack, transforms: np.ndarray, size: int, template="face") -> np.ndarray:
    """Per valid frame, mean distance (crop pixels) of the aligned template points to the template."""
    tpl = TEMPLATES[template] if isinstance(template, str) else template
    pts = tpl.from_landmarks(transform_points(track.landmarks, transforms))
    d = np.linalg.norm(pts - tpl.points * size, axis=-1).mean(-1)
    return d[track.valid]


def _decode(path: Path, fps: float | None = None):
    r = ClipReader(path, fps=fps, audio=True)
    frames = r.read_all()
    return frames, r.audio, r.fps, r.notes, np.asarray(r.source_index)


def _audio_for(audio, n_frames: int, fps: float):
    if audio is None or not audio.size:
        return None
    return audio[: int(round(n_frames / fps * AUDIO_RATE))]


def align_clip(path: str | os.PathLike, out: str | os.PathLike, *, gt: str | os.PathLike | None = None,
               gt_out: str | os.PathLike | None = None, mode: str = "similarity", size: int = 256,
               settings: FaceSettings | None = None, cache_dir=None, template="face",
               smooth: float = 2.0, scale: float = 0.4) -> Aligned:
    """Write the aligned face crops of a clip (``size × size``, audio kept) to ``out``.

    Parameters
    ----------
    path : the clip to align (a generated clip when ``gt`` is given).
    out : output video file (its extension picks the container; ``.mp4`` recommended).
    gt : a ground-truth clip: transforms come from its face track and are applied to both
        clips over their common frames; pred is resampled to GT's frame rate and resized to
        its frame size first. ``gt_out`` receives GT's crops (skipped when None).
    mode, size, template, smooth, scale : see :func:`transforms_for`.
    settings, cache_dir : face analysis settings and track cache (see :func:`analyze_clip`).

    Raises
    ------
    ClipError for an unreadable clip, NoFaceError when the (GT) clip has no face.
    """
    path, out = Path(path), Path(out)
    settings = settings or FaceSettings()
    notes: list[str] = []
    if gt is None:
        frames, audio, fps, n, _ = _decode(path)
        notes += n
        track = analyze_clip(path, frames=frames, settings=settings, cache_dir=cache_dir)
        m = transforms_for(track, mode, size, template=template, smooth=smooth, scale=scale)
        write_clip(out, warp_frames(frames, m, size), fps, audio=_audio_for(audio, len(frames), fps))
        res = template_residual(track, m, size, template) if mode == "similarity" else None
        return Aligned(path, out, None, len(frames), int(track.valid.sum()),
                       None if res is None or not res.size else float(res.mean()), notes)
    gt = Path(gt)
    cplan = plan(probe(path), probe(gt), ConformPolicy())
    notes += list(cplan.notes)
    g_frames, g_audio, fps, g_notes, _ = _decode(gt)
    p_frames, p_audio, _, p_notes, _ = _decode(path, cplan.pred_fps)
    notes += p_notes
    n = min(len(g_frames), len(p_frames))
    if len(g_frames) != len(p_frames):
        notes.append(f"aligned over the {n} common frames (pred {len(p_frames)}, GT {len(g_frames)})")
    track = analyze_clip(gt, frames=g_frames, settings=settings, cache_dir=cache_dir).take(np.arange(n))
    m = transforms_for(track, mode, size, template=template, smooth=smooth, scale=scale)
    p_frames = resize_frames(p_frames[:n], cplan.pred_size)
    write_clip(out, warp_frames(p_frames, m, size), fps, audio=_audio_for(p_audio, n, fps))
    if gt_out is not None:
        write_clip(gt_out, warp_frames(g_frames[:n], m, size), fps, audio=_audio_for(g_audio, n, fps))
    res = template_residual(track, m, size, template) if mode == "similarity" else None
    return Aligned(path, out, Path(gt_out) if gt_out else None, n, int(track.valid.sum()),
                   None if res is None or not res.size else float(res.mean()), notes)


def pair_gt(inputs: list[Path], gt: Path | None) -> list[tuple[Path, Path | None]]:
    """Each input with its GT: the GT file itself, or the file of the same stem in a GT folder."""
    if gt is None:
        return [(p, None) for p in inputs]
    if gt.is_dir():
        by_stem = {q.stem: q for q in sorted(_videos(gt))}
        out = []
        for p in inputs:
            if p.stem not in by_stem:
                raise ThgevalError(f"{p}: no GT clip named {p.stem}.* in {gt}")
            out.append((p, by_stem[p.stem]))
        return out
    return [(p, gt) for p in inputs]


def expand_inputs(inputs: list[str | os.PathLike]) -> list[Path]:
    """Files as given; a folder stands for the video files in it (sorted)."""
    out = []
    for i in inputs:
        p = Path(i)
        out.extend(sorted(_videos(p)) if p.is_dir() else [p])
    return out


def _videos(folder: Path) -> list[Path]:
    return [q for q in folder.iterdir()
            if q.is_file() and not q.name.startswith(".") and q.suffix.lower() in VIDEO_EXTENSIONS]


def align_clips(inputs: list[str | os.PathLike], out_dir: str | os.PathLike, *, gt: str | os.PathLike | None = None,
                workers: int | None = 1, progress=None, **kwargs) -> list[tuple[Path, Aligned | str]]:
    """Align many clips into ``out_dir`` (``<stem>.mp4``; GT crops in ``out_dir/gt``).

    ``inputs``: clip files or folders of clips; ``gt``: one GT clip for all, or a folder of
    GT clips paired by file stem (a GT's crops are written with its first pair). A clip that
    fails (unreadable, no face) gives its one-line reason instead of an :class:`Aligned`
    and the others go on. ``workers``: processes (None: every core). ``progress(done,
    total)`` is called as clips finish. Other keywords go to :func:`align_clip`.
    """
    from .batch import run_pool

    out_dir = Path(out_dir)
    pairs = pair_gt(expand_inputs(inputs), Path(gt) if gt is not None else None)
    stems = [p.stem for p, _ in pairs]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise ThgevalError(f"several inputs share the name {dup[0]!r}: outputs would overwrite each other")
    jobs, gt_seen = [], set()
    for p, g in pairs:
        gt_out = None
        if g is not None and g not in gt_seen:
            gt_out = out_dir / "gt" / f"{g.stem}.mp4"
            gt_seen.add(g)
        jobs.append((p, out_dir / f"{p.stem}.mp4", g, gt_out, kwargs))
    results = run_pool(_align_job, jobs, workers, progress)
    return [(p, r) for (p, _), r in zip(pairs, results)]


def _align_job(path, out, gt, gt_out, kwargs) -> Aligned:
    return align_clip(path, out, gt=gt, gt_out=gt_out, **kwargs)
