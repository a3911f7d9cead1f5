"""Side inputs of an evaluation: reference images, transcripts, recogniser hypotheses."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import ConfigError

IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .bmp .webp .tif .tiff".split())
_VIDEO_SUFFIX = re.compile(r"\.(mp4|m4v|mpg|mpeg|avi|mov|mkv|webm|flv)$", re.I)


def read_texts(path: str | os.PathLike) -> dict[str, str]:
    """An ``id text`` file (``--transcripts``, ``--hyp``): one ``CLIP_ID TEXT`` line per clip.

    The id is the clip's key (e.g. ``s1/bbaf2n``; a video extension on it is dropped), the
    text the rest of the line (it may be empty). Blank lines and lines starting with ``#``
    are ignored; a UTF-8 byte-order mark is allowed; an id given twice is an error.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    out: dict[str, str] = {}
    for i, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(None, 1)
        key = _VIDEO_SUFFIX.sub("", parts[0])
        if key in out:
            raise ConfigError(f"{p}:{i}: clip {key!r} listed twice")
        out[key] = " ".join(parts[1].split()) if len(parts) > 1 else ""
    return out


def list_references(folder: str | os.PathLike) -> dict[str, Path]:
    """Reference (source) images keyed by their path relative to ``folder``, without extension."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory")
    return {
        p.relative_to(root).with_suffix("").as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    }
