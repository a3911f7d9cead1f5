"""A Sample: what a clip-level or set-level metric sees of one clip of one method.

Everything is computed lazily and memoised, so ten metrics on one clip decode each video
once and analyse each face once: decoded clips and face tracks live in a :class:`MediaCache`
shared by every sample of one clip job (the GT clip is the same object for all methods),
face tracks also on disk (see :mod:`thgeval.face`), and derived features (aligned crops,
embeddings, SyncNet distances) in the sample's :meth:`Sample.memo`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import MetricSkipped
from ..io import ClipInfo, ClipReader, load_audio, load_audio_pcm16, probe
from ..io.conform import ConformPolicy, plan, resize_frames

PRED, GT = "pred", "gt"
SIDES = (PRED, GT)
REAL = "real"  # the method name of the GT clips' own rows (thgeval.run.pairing.REAL is this)

# Whole-clip metrics hold a clip's frames in memory; beyond this they say so and skip.
FRAME_BUDGET_BYTES = int(os.environ.get("THGEVAL_FRAME_BUDGET", 3_000_000_000))


@dataclass(frozen=True)
class SampleOptions:
    """Run-wide settings a metric may read: conform policy, device, face analysis, caches."""

    policy: ConformPolicy = field(default_factory=ConformPolicy)
    device: str = "cpu"
    face: Any = None  # thgeval.face.FaceSettings; None: the face layer's defaults
    cache_dir: Path | None = None  # face tracks and features; None: $THGEVAL_HOME/cache
    batch_size: int | None = None  # network batch size; None: chosen by the metric


@dataclass
class Conformed:
    """Pred frames on GT's timeline and frame size, and GT frames, over their common length."""

    pred: np.ndarray
    gt: np.ndarray
    pred_index: np.ndarray  # native pred frame shown at each GT frame
    pred_scale: tuple[float, float]  # (sx, sy): native pred pixel → conformed pixel
    gt_scale: tuple[float, float]
    notes: list[str]


class _Decoded:
    """One decoded clip at one frame rate: frames, audio, and the native frame of each frame."""

    def __init__(self, path: Path, fps: float | None):
        reader = ClipReader(path, fps=fps, audio=True)
        info = reader.info
        need = info.frame_count * info.width * info.height * 3
        if fps is not None:
            need = int(need * fps / max(info.fps, 1e-6))
        if need > FRAME_BUDGET_BYTES:
            raise MetricSkipped(
                f"{path.name}: {need / 1e9:.1f} GB of frames exceed the in-memory budget of "
                f"{FRAME_BUDGET_BYTES / 1e9:.1f} GB for whole-clip metrics (set THGEVAL_FRAME_BUDGET)"
            )
        self.frames = reader.read_all()
        self.audio = reader.audio
        self.source_index = np.asarray(reader.source_index, dtype=np.int64)
        self.notes = reader.notes
        self.info = info
        self.fps = reader.fps


class MediaCache:
    """Decoded clips, face tracks and shared features of one clip job, by file path.

    One instance per clip job: the GT clip decoded for the ``real`` row is the same object
    the methods' samples compare against.
    """

    def __init__(self):
        self._decoded: dict[tuple[Path, float | None], _Decoded] = {}
        self._info: dict[Path, ClipInfo] = {}
        self._faces: dict[tuple[Path, str], Any] = {}
        self._audio: dict[Path, np.ndarray | None] = {}
        self.memo: dict[Any, Any] = {}
        self.frames_decoded = 0

    def info(self, path: Path) -> ClipInfo:
        if path not in self._info:
            self._info[path] = probe(path)
        return self._info[path]

    def decoded(self, path: Path, fps: float | None = None) -> _Decoded:
        key = (path, fps)
        if key not in self._decoded:
            d = _Decoded(path, fps)
            self.frames_decoded += len(d.frames)
            self._decoded[key] = d
            self._info.setdefault(path, d.info)
        return self._decoded[key]

    def audio(self, path: Path) -> np.ndarray | None:
        """A file's audio: from its decoded clip when there is one, else decoded alone."""
        for (p, _), d in self._decoded.items():
            if p == path:
                return d.audio
        if path not in self._audio:
            self._audio[path] = load_audio(path)
        return self._audio[path]

    def audio_pcm16(self, path: Path) -> np.ndarray | None:
        """A file's audio as FFmpeg's ``pcm_s16le`` mono 16 kHz int16 samples (SyncNet's input)."""
        key = ("pcm16", path)
        if key not in self.memo:
            self.memo[key] = load_audio_pcm16(path)
        return self.memo[key]

    def put_frames(self, path: Path, frames: np.ndarray, audio, notes, fps: float | None = None) -> None:
        """Hand over frames already decoded elsewhere in the job (no second decode)."""
        d = _Decoded.__new__(_Decoded)
        d.frames, d.audio, d.notes = frames, audio, list(notes)
        d.info = self.info(path)
        d.fps = fps if fps is not None else d.info.fps
        d.source_index = np.arange(len(frames))
        self._decoded[(path, fps)] = d

    def face(self, path: Path, options: SampleOptions):
        """The face track of a clip's native frames (memory, then disk cache, then analysis)."""
        from ..face import analyze_clip

        key = (path, repr(options.face))
        if key not in self._faces:
            native = self._decoded.get((path, None))
            self._faces[key] = analyze_clip(
                path, frames=None if native is None else native.frames,
                settings=options.face, cache_dir=options.cache_dir,
            )
        return self._faces[key]


class Sample:
    """One clip of one method, as a clip-level or set-level metric sees it.

    ``pred`` is the generated clip (for the ``real`` row: the GT clip itself, with ``gt``
    None). ``reference`` is a source image (identity metrics), ``transcript`` the spoken
    text, ``hypothesis`` a recogniser's text supplied by the user, ``audio_source`` the clip
    whose speech drove the generation when it is not the GT clip (Wav2Lip's filelists).
    """

    def __init__(self, method: str, clip: str, pred: Path, gt: Path | None = None, *,
                 reference: Path | None = None, transcript: str | None = None,
                 hypothesis: str | None = None, options: SampleOptions | None = None,
                 media: MediaCache | None = None, audio_source: Path | None = None):
        self.method, self.clip = method, clip
        self.pred_path = Path(pred)
        self.gt_path = Path(gt) if gt is not None else None
        self.audio_source = Path(audio_source) if audio_source is not None else None
        self.reference = Path(reference) if reference is not None else None
        self.transcript = transcript
        self.hypothesis = hypothesis
        self.options = options or SampleOptions()
        self.media = media or MediaCache()
        self._memo: dict[Any, Any] = {}

    # --- paths and facts -------------------------------------------------------------------
    def path(self, side: str) -> Path:
        if side == PRED:
            return self.pred_path
        if side == GT:
            if self.gt_path is None:
                raise MetricSkipped(f"no GT clip named {self.clip!r}")
            return self.gt_path
        raise ValueError(f"side must be one of {SIDES}; got {side!r}")

    @property
    def has_gt(self) -> bool:
        return self.gt_path is not None

    def info(self, side: str) -> ClipInfo:
        return self.media.info(self.path(side))

    # --- decoded media ---------------------------------------------------------------------
    def frames(self, side: str = PRED) -> np.ndarray:
        """The clip's native frames, T×H×W×3 uint8 RGB (decoded once per job)."""
        return self.media.decoded(self.path(side)).frames

    def fps(self, side: str = PRED) -> float:
        return self.media.decoded(self.path(side)).fps

    def audio(self, side: str = PRED) -> np.ndarray | None:
        """The clip's own audio, mono float32 at 16 kHz, or None."""
        if not self.info(side).has_audio:
            return None
        return self.media.decoded(self.path(side)).audio

    def driving_audio(self) -> tuple[np.ndarray, str]:
        """The audio a generated clip should be in sync with: its own track, else the audio
        source's, else GT's.

        Returns ``(audio, note)``; raises MetricSkipped when none of them has audio.
        """
        path, note = self.driving_audio_path()
        return (self.audio(PRED) if path == self.pred_path else self.media.audio(path)), note

    def driving_audio_path(self) -> tuple[Path, str]:
        """The file :meth:`driving_audio` takes its samples from, and its note."""
        a = self.audio(PRED)
        if a is not None and a.size:
            return self.pred_path, ""
        if self.audio_source is not None:
            s = self.media.audio(self.audio_source)
            if s is not None and s.size:
                return self.audio_source, f"pred has no audio: {self.audio_source.name}'s audio used"
        if self.has_gt:
            g = self.audio(GT)
            if g is not None and g.size:
                return self.path(GT), "pred has no audio: GT's audio used"
        raise MetricSkipped("no audio: neither the clip nor its GT has an audio track")

    def conformed(self) -> Conformed:
        """Pred on GT's timeline and frame size (the run's conform policy), common length."""
        def build():
            gt_path = self.path(GT)
            cplan = plan(self.info(PRED), self.info(GT), self.options.policy)
            p = self.media.decoded(self.pred_path, cplan.pred_fps)
            g = self.media.decoded(gt_path)
            n = min(len(p.frames), len(g.frames))
            notes = list(p.notes) + list(cplan.notes)
            if len(p.frames) != len(g.frames):
                from ..io.conform import length_note

                notes.append(length_note(len(p.frames), len(g.frames), self.options.policy))
            pi, gi = self.info(PRED), self.info(GT)
            pw, ph = cplan.pred_size or (pi.width, pi.height)
            gw, gh = cplan.gt_size or (gi.width, gi.height)
            return Conformed(
                pred=resize_frames(p.frames[:n], cplan.pred_size),
                gt=resize_frames(g.frames[:n], cplan.gt_size),
                pred_index=p.source_index[:n].copy(),
                pred_scale=(pw / pi.width, ph / pi.height),
                gt_scale=(gw / gi.width, gh / gi.height),
                notes=notes,
            )

        return self.memo("conformed", build)

    # --- faces -----------------------------------------------------------------------------
    def face(self, side: str = PRED):
        """The :class:`thgeval.face.FaceTrack` of the clip's native frames (analysed once)."""
        return self.media.face(self.path(side), self.options)

    # --- shared features -------------------------------------------------------------------
    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute once per sample: several metrics share one SyncNet pass, one alignment."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute once per clip job (across methods): features of the GT side, say."""
        if key not in self.media.memo:
            self.media.memo[key] = compute()
        return self.media.memo[key]


def batch_for(options: SampleOptions, item_bytes: float, *, cap: int = 256) -> int:
    """Items per network call: ``options.batch_size`` when given, else what fits a share of
    the device's free memory (CUDA: 40 % of ``mem_get_info``'s free bytes; CPU: 1 GB, since
    larger batches gain nothing there) at ``item_bytes`` of activations per item, 1…``cap``."""
    if options.batch_size:
        return max(1, int(options.batch_size))
    budget = 1e9
    if str(options.device).startswith("cuda"):
        try:
            import torch

            free, _ = torch.cuda.mem_get_info(torch.device(options.device))
            budget = 0.4 * free
        except Exception:  # no CUDA here: the metric's own device error will say so
            pass
    return int(min(cap, max(1, budget // max(item_bytes, 1.0))))
