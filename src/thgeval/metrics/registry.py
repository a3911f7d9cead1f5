"""The metric registry: one record per metric, one frozen parameter record per variant.

A metric is resolved from ``name`` or ``name@variant``; a variant is data (parameters plus
the reference it reproduces), never a separate code path.
"""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..errors import UnknownMetricError

# How per-frame values become the clip value and the set value.
MEAN_OF_CLIP_MEANS = "mean-of-clip-means"
POOLED_FRAMES = "pooled-frames"


@dataclass(frozen=True)
class Variant:
    """A frozen parameter record that reproduces one published reference."""

    name: str
    params: Mapping[str, Any]
    reference: str
    aggregation: str = MEAN_OF_CLIP_MEANS
    notes: str = ""

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class Metric:
    """Everything the run, the report and ``thgeval metrics`` need to know about a metric.

    ``frame_fn(pred, gt, **params)`` takes batches of frames (T×H×W×3 uint8; ``gt`` is None
    for no-reference metrics) and returns T per-frame values; it may raise
    :class:`~thgeval.errors.MetricSkipped` with the reason it cannot run.
    """

    name: str
    title: str
    higher_is_better: bool
    needs: frozenset[str]
    frame_fn: Callable[..., Any]
    variants: Mapping[str, Variant]
    default_variant: str
    version: str
    unit: str = ""
    value_range: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    requires_modules: tuple[str, ...] = ()

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    @property
    def no_reference(self) -> bool:
        return "gt" not in self.needs

    def missing_requirements(self) -> list[str]:
        """Python modules this metric needs that are not importable here."""
        return [m for m in self.requires_modules if importlib.util.find_spec(m) is None]


@dataclass(frozen=True)
class MetricRef:
    """A resolved ``name@variant``: the unit a result row is keyed by."""

    metric: Metric
    variant: Variant

    @property
    def key(self) -> str:
        return f"{self.metric.name}@{self.variant.name}"

    @property
    def version(self) -> str:
        return self.metric.version

    def params(self) -> dict[str, Any]:
        return dict(self.variant.params)


_REGISTRY: dict[str, Metric] = {}
_ALIASES: dict[str, str] = {}


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} registered twice")
    if metric.default_variant not in metric.variants:
        raise ValueError(f"{metric.name}: default variant {metric.default_variant!r} not among its variants")
    _REGISTRY[metric.name] = metric
    for alias in metric.aliases:
        _ALIASES[alias.lower()] = metric.name
    return metric


def all_metrics() -> list[Metric]:
    _load_builtin()
    return list(_REGISTRY.values())


def get_metric(name: str) -> Metric:
    _load_builtin()
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        known = sorted(_REGISTRY) + sorted(_ALIASES)
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(_REGISTRY))}"
        raise UnknownMetricError(f"unknown metric {name!r}{hint}")
    return _REGISTRY[key]


def resolve(spec: str) -> MetricRef:
    """``'ssim'`` or ``'ssim@skimage-uniform7'`` → :class:`MetricRef`."""
    name, _, variant = spec.partition("@")
    metric = get_metric(name)
    vname = variant.strip() or metric.default_variant
    if vname not in metric.variants:
        close = difflib.get_close_matches(vname, list(metric.variants), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownMetricError(
            f"metric {metric.name!r} has no variant {vname!r} (variants: {', '.join(metric.variants)}){hint}"
        )
    return MetricRef(metric, metric.variants[vname])


def resolve_list(specs: str | list[str] | None) -> list[MetricRef]:
    """A comma list (or list) of metric specs; None means every registered metric's default."""
    if specs is None:
        return [MetricRef(m, m.variants[m.default_variant]) for m in all_metrics()]
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    refs, seen = [], set()
    for s in specs:
        ref = resolve(s)
        if ref.key not in seen:
            seen.add(ref.key)
            refs.append(ref)
    return refs


def _load_builtin() -> None:
    # Importing the family modules registers their metrics exactly once.
    from . import fidelity, sharpness  # noqa: F401
