"""Paper protocols: a paper's data layout, metric variants and self-checks, as data files.

Each ``*.toml`` beside this module is one protocol; nothing here is code per paper. A
protocol names how clips pair (``layout``), the ``metrics`` (``name@variant``, whose
records carry preprocessing and aggregation) and ``checks`` that flag an implausible
setup from the real row (GT clips through the identical variant).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError

LAYOUTS = ("folders", "wav2lip-filelist")
_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Check:
    """A plausibility rule on the real row: ``min <= mean <= max`` or the message is shown."""

    message: str
    metric: str | None = None  # metric name (any variant) whose values are checked
    method: str = "real"
    extra: str | None = None  # check rows' extra[<key>] instead of their values
    min: float | None = None
    max: float | None = None
    source: str = ""  # where the threshold comes from


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str
    paper: str
    code: str
    layout: str
    metrics: tuple[str, ...]
    layout_help: str = ""
    notes: str = ""
    verified: bool = True  # False where no reference code was released
    checks: tuple[Check, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _load() -> dict[str, Protocol]:
    out = {}
    for path in sorted(_DIR.glob("*.toml")):
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        checks = tuple(Check(**c) for c in doc.pop("checks", []))
        p = Protocol(**{**doc, "metrics": tuple(doc["metrics"]), "checks": checks})
        if p.layout not in LAYOUTS:
            raise ValueError(f"{path}: layout must be one of {LAYOUTS}; got {p.layout!r}")
        out[p.name] = p
    return out


def all_protocols() -> list[Protocol]:
    return list(_load().values())


def get_protocol(name: str) -> Protocol:
    known = _load()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
        raise ConfigError(f"unknown protocol {name!r}{hint}")
    return known[name]


def missing_metrics(p: Protocol) -> list[str]:
    """The protocol's metric specs this build cannot resolve (not yet implemented)."""
    from ..errors import UnknownMetricError
    from ..metrics import resolve

    out = []
    for spec in p.metrics:
        try:
            resolve(spec)
        except UnknownMetricError:
            out.append(spec)
    return out


def run_checks(p: Protocol, rows) -> list[str]:
    """Warnings for every check the run's rows violate (the setup, not the method, is off)."""
    warnings = []
    for c in p.checks:
        vals = []
        for r in rows:
            if r.method != c.method or (c.metric and r.metric != c.metric):
                continue
            if c.extra:
                v = r.extra.get(c.extra) if isinstance(r.extra, dict) else None
            else:
                v = r.value if r.status == "ok" else None
            if v is not None and v == v:
                vals.append(float(v))
        if not vals:
            continue
        mean = sum(vals) / len(vals)
        low = c.min is not None and mean < c.min
        high = c.max is not None and mean > c.max
        if low or high:
            what = f"{c.extra} of {c.metric or 'face analysis'}" if c.extra else c.metric
            bound = f"below {c.min:g}" if low else f"above {c.max:g}"
            warnings.append(f"self-check: {what} on {c.method} clips is {mean:.3g}, {bound}: {c.message}")
    return warnings
