"""On-disk cache of face tracks, keyed by a clip's content and the analysis settings.

A track is stored at ``<cache root>/faces/<sha[:2]>/<sha256 of the file>-face<FACE_VERSION>
-<hash of settings.key and FACE_VERSION>.npz`` (the cache root is ``$THGEVAL_HOME/cache``
unless given, the same root :class:`thgeval.metrics.sample.SampleOptions` names) and written atomically (temporary file, then ``os.replace``): two
processes analysing the same clip at once both write a complete file and either result is
the same track; a reader never sees a partial file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import ThgevalError
from ..weights import home
from .settings import FACE_VERSION, FaceSettings
from .track import FaceTrack

_BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def default_root() -> Path:
    """``$THGEVAL_HOME/cache`` (see :func:`thgeval.weights.home`)."""
    return home() / "cache"


def tracks_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of cached face tracks: ``<cache_dir or $THGEVAL_HOME/cache>/faces``."""
    return (Path(cache_dir) if cache_dir is not None else default_root()) / "faces"


def settings_digest(settings: FaceSettings) -> str:
    """Short hash of the settings and the face layer's version (part of file names)."""
    return hashlib.sha256(f"face-v{FACE_VERSION}|{settings.key}".encode()).hexdigest()[:16]


def track_path(content_sha: str, settings: FaceSettings, cache_dir: str | os.PathLike | None = None) -> Path:
    return tracks_dir(cache_dir) / content_sha[:2] / f"{content_sha}-face{FACE_VERSION}-{settings_digest(settings)}.npz"


def load(path: Path, settings: FaceSettings) -> FaceTrack | None:
    """The cached track, or None when absent, damaged or made with other settings."""
    if not path.is_file():
        return None
    try:
        track = FaceTrack.load(path)
    except ThgevalError:
        return None
    return track if track.settings_key == settings.key else None


def store(path: Path, track: FaceTrack) -> str | None:
    """Write a track; returns None, or a one-line note when the cache folder is not writable."""
    try:
        track.save(path)
    except OSError as e:
        return f"face track not cached ({path.parent}: {e.strerror or e})"
    return None
