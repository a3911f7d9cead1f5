"""Face analysis of a clip file: streamed in bounded memory, cached on disk."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io import ClipReader, probe
from . import cache
from .analyze import Tracker, analyze_frames, select
from .settings import FaceSettings
from .track import FaceTrack

CHUNK = 64  # frames decoded at a time when streaming a file …
CHUNK_BYTES = 200_000_000  # … fewer for large frames (4K: 8 frames)


def analyze_clip(path: str | os.PathLike, *, frames: np.ndarray | None = None,
                 settings: FaceSettings | None = None, cache_dir: str | os.PathLike | None = None,
                 use_cache: bool = True) -> FaceTrack:
    """The :class:`FaceTrack` of a clip file's native frames, from the cache or analysed.

    Parameters
    ----------
    path : the clip (any file :func:`thgeval.io.probe` reads).
    frames : the clip's native frames, already decoded (T×H×W×3 uint8, e.g. by
        :class:`thgeval.io.ClipReader` at its own rate): used instead of decoding again.
        Otherwise the file is streamed in chunks of at most :data:`CHUNK` frames and
        :data:`CHUNK_BYTES` bytes (bounded memory).
    settings : :class:`FaceSettings` (None: defaults).
    cache_dir : the cache root (default ``$THGEVAL_HOME/cache``); tracks are kept in its
        ``faces/`` folder. The key is the file's sha256, ``settings.key`` and
        :data:`FACE_VERSION`: a second call with the same file and settings does no
        detection, and a changed file is analysed again.
    use_cache : False neither reads nor writes the cache.

    Returns
    -------
    FaceTrack
        One entry per native frame; ``notes`` say if the cache could not be written.
    """
    settings = settings or FaceSettings()
    path = Path(path)
    target = None
    if use_cache:
        target = cache.track_path(cache.file_sha256(path), settings, cache_dir)
        hit = cache.load(target, settings)
        if hit is not None and (frames is None or len(frames) == len(hit)):
            return hit
    if frames is not None:
        track = analyze_frames(frames, settings, fps=probe(path).fps)
    else:
        track = _stream(path, settings)
    if target is not None:
        note = cache.store(target, track)
        if note:
            track.notes = track.notes + (note,)
    return track


def _stream(path: Path, settings: FaceSettings) -> FaceTrack:
    reader = ClipReader(path, audio=False)
    tracker = Tracker(settings)
    t = 0
    size = (reader.info.width, reader.info.height)
    per_frame = reader.info.width * reader.info.height * 3
    for chunk in reader.chunks(max(1, min(CHUNK, CHUNK_BYTES // max(per_frame, 1)))):
        size = (chunk.shape[2], chunk.shape[1])
        for frame in chunk:
            tracker.push(t, frame)
            t += 1
    track = select(tracker.found, t, size, settings, reader.fps)
    track.notes = tuple(reader.notes)
    return track
