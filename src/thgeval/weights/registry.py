"""The weights manifest and where files are found."""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError, MetricSkipped

MANIFEST = Path(__file__).with_name("manifest.toml")


@dataclass(frozen=True)
class WeightsEntry:
    """One pretrained file: where it comes from, what it is, how to check it."""

    name: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None = None  # None: no published checksum (the first download records one)
    size: int | None = None  # bytes, where known
    licence: str = ""
    citation: str = ""
    description: str = ""
    used_by: tuple[str, ...] = field(default_factory=tuple)
    # The URLs serve a zip archive holding the file under this name (e.g. insightface's model
    # packs); size and sha256 are then those of the extracted file.
    archive_member: str | None = None
    # The file also ships inside an installed Python package: "package:relative/path", used
    # when no copy is in the weights folders (e.g. LPIPS heads in the lpips wheel).
    package_path: str | None = None

    @property
    def fetch_command(self) -> str:
        return f"thgeval weights fetch {self.name}"


class WeightsMissing(MetricSkipped):
    """A weights file is not present; the message names the exact command that fetches it."""

    def __init__(self, entry: WeightsEntry, looked_in: list[Path]):
        self.entry = entry
        where = ", ".join(str(p) for p in looked_in) or "(no folder)"
        super().__init__(
            f"weights {entry.name!r} ({entry.filename}) not found in {where}: "
            f"run `{entry.fetch_command}` (or place the file in $THGEVAL_WEIGHTS_DIR)"
        )


@lru_cache(maxsize=1)
def _load() -> dict[str, WeightsEntry]:
    with open(MANIFEST, "rb") as f:
        doc = tomllib.load(f)
    out = {}
    for item in doc.get("weights", []):
        item = dict(item)
        item["urls"] = tuple(item.get("urls", ()))
        item["used_by"] = tuple(item.get("used_by", ()))
        e = WeightsEntry(**item)
        if e.name in out:
            raise ValueError(f"{MANIFEST}: weights {e.name!r} listed twice")
        out[e.name] = e
    return out


def entries() -> dict[str, WeightsEntry]:
    """Every known weights entry, by name."""
    return dict(_load())


def get(name: str) -> WeightsEntry:
    known = _load()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
        raise ConfigError(f"unknown weights {name!r}{hint}")
    return known[name]


def home() -> Path:
    """thgeval's cache root: ``$THGEVAL_HOME``, else ``$XDG_CACHE_HOME/thgeval``, else ``~/.cache/thgeval``."""
    env = os.environ.get("THGEVAL_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "thgeval"


def search_dirs() -> list[Path]:
    """Folders searched for weights files, in order: the offline folder, then the store."""
    dirs = []
    offline = os.environ.get("THGEVAL_WEIGHTS_DIR")
    if offline:
        dirs.append(Path(offline).expanduser())
    dirs.append(home() / "weights")
    return dirs


def find(name: str) -> Path | None:
    """The path of a present weights file, or None: the weights folders first, then the
    installed package that ships it (``package_path``), located without importing it."""
    e = get(name)
    for d in search_dirs():
        p = d / e.filename
        if p.is_file():
            return p
    if e.package_path:
        import importlib.util

        pkg, _, rel = e.package_path.partition(":")
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        for root in (spec.submodule_search_locations or []) if spec else []:
            p = Path(root) / rel
            if p.is_file():
                return p
    return None


def locate(name: str) -> Path:
    """The path of a weights file; raises :class:`WeightsMissing` (a metric skip) when absent."""
    p = find(name)
    if p is None:
        raise WeightsMissing(get(name), search_dirs())
    return p
