"""Side inputs of an evaluation: reference images, transcripts, recogniser hypotheses."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .bmp .webp .tif .tiff".split())


def read_texts(path: str | os.PathLike) -> dict[str, str]:
    """``id text`` lines (id = clip name, text = the rest of the line); blank lines and
    lines starting with ``#`` are ignored; an id given twice is an error."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    out: dict[str, str] = {}
    for i, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, text = line.partition(" ")
        if "\t" in key:
            key, _, rest = key.partition("\t")
            text = f"{rest} {text}".strip()
        key = key.strip()
        if key in out:
            raise ConfigError(f"{p}:{i}: id {key!r} given twice")
        out[key] = " ".join(text.split())
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
