"""The metric registry: one record per metric, one frozen parameter record per variant.

A metric is resolved from ``name`` or ``name@variant``; a variant is data (parameters plus
the reference it reproduces), never a separate code path.
"""

from __future__ import annotations

import difflib
import os
import importlib.util
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..errors import UnknownMetricError

# How per-frame values become the clip value and the set value.
MEAN_OF_CLIP_MEANS = "mean-of-clip-means"
POOLED_FRAMES = "pooled-frames"

# What a metric is a function of.
FRAME = "frame"  # frame_fn(pred, gt, **params) on batches of frames, streamed in chunks
CLIP = "clip"  # clip_fn(sample, **params) -> ClipValue, on a whole Sample (faces, audio, ...)
SET = "set"  # features_fn(sample, side, **params) per clip, set_fn(pred_feats, gt_feats, **params) per method
KINDS = (FRAME, CLIP, SET)


@dataclass
class ClipValue:
    """What a clip-level metric returns for one clip.

    ``value`` is the clip's number (None with ``status`` skipped is not allowed: raise
    :class:`~thgeval.errors.MetricSkipped` instead). ``n_frames`` is how many frames the value
    stands for (the weight of pooled-frames aggregation); ``series`` optional per-frame values;
    ``notes`` what was adjusted or excluded; ``extra`` JSON-able details (curves, counts).
    """

    value: float
    n_frames: int = 0
    series: Any = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SetValue:
    """What a set-level metric returns for one method over its clips."""

    value: float
    n_clips: int
    n_items: int  # frames or 16-frame windows the features came from
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """A frozen parameter record that reproduces one published reference."""

    name: str
    params: Mapping[str, Any]
    reference: str
    aggregation: str = MEAN_OF_CLIP_MEANS
    notes: str = ""
    weights: tuple[str, ...] = ()  # weights files this variant needs (beyond the metric's own)

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class Metric:
    """Everything the run, the report and ``thgeval metrics`` need to know about a metric.

    ``kind`` says what the metric is a function of:

    - ``frame``: ``frame_fn(pred, gt, **params)`` takes batches of frames (T×H×W×3 uint8;
      ``gt`` is None for no-reference metrics) and returns T per-frame values; the run
      streams clips through it in chunks.
    - ``clip``: ``clip_fn(sample, **params)`` gets a :class:`~thgeval.metrics.sample.Sample`
      (decoded frames, audio, face tracks, memoised shared features) and returns a
      :class:`ClipValue`.
    - ``set``: ``features_fn(sample, side, **params)`` returns an (N, D) array of features of
      one clip's ``side`` ("pred" or "gt"), cached by content hash; ``set_fn(pred_feats,
      gt_feats, **params)`` turns the lists of per-clip features of a method and of the GT
      set into a :class:`SetValue`.

    Any of them may raise :class:`~thgeval.errors.MetricSkipped` with the reason it cannot
    run. ``needs`` names inputs: ``gt``, ``audio``, ``face``, ``reference``, ``transcript``.
    """

    name: str
    title: str
    higher_is_better: bool
    needs: frozenset[str]
    variants: Mapping[str, Variant]
    default_variant: str
    version: str
    frame_fn: Callable[..., Any] | None = None
    kind: str = FRAME
    clip_fn: Callable[..., Any] | None = None
    features_fn: Callable[..., Any] | None = None
    set_fn: Callable[..., Any] | None = None
    unit: str = ""
    value_range: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    requires_modules: tuple[str, ...] = ()
    weights: tuple[str, ...] = ()  # weights files every variant needs (names in thgeval.weights)
    family: str = ""  # the module that computes it (report grouping)
    # What a variant's parameters resolve to on this machine (e.g. ``encoder="auto"`` → which
    # encoder, its version): ``runtime_fn(**params) -> dict``, part of each row's key and of the
    # run's config, so a row made with another tool is not reused.
    runtime_fn: Callable[..., dict] | None = None

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    @property
    def no_reference(self) -> bool:
        return "gt" not in self.needs

    def missing_requirements(self) -> list[str]:
        """Python modules this metric needs that are not importable here."""
        return [m for m in self.requires_modules if importlib.util.find_spec(m) is None]

    def missing_weights(self, variant: str | None = None) -> list[str]:
        """Names of weights files (the metric's and the variant's) not present here."""
        from ..weights import find

        v = self.variants[variant or self.default_variant]
        return [w for w in dict.fromkeys(self.weights + v.weights) if find(w) is None]

    def why_not(self, variant: str | None = None) -> str:
        """Why this metric cannot run here ('' when it can): what to install or fetch."""
        parts = []
        mods = self.missing_requirements()
        if mods:
            parts.append("install " + ", ".join(mods) + " (pip install 'thgeval[deep]')")
        for w in self.missing_weights(variant):
            parts.append(f"run `thgeval weights fetch {w}`")
        return "; ".join(parts)


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

    def runtime(self) -> dict[str, Any]:
        """What this variant's parameters resolve to here ({} for most metrics)."""
        fn = self.metric.runtime_fn
        return dict(fn(**self.params())) if fn is not None else {}


_REGISTRY: dict[str, Metric] = {}
_ALIASES: dict[str, str] = {}


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} registered twice")
    if metric.kind not in KINDS:
        raise ValueError(f"{metric.name}: kind must be one of {KINDS}; got {metric.kind!r}")
    fns = {FRAME: ("frame_fn",), CLIP: ("clip_fn",), SET: ("features_fn", "set_fn")}[metric.kind]
    if any(getattr(metric, f) is None for f in fns):
        raise ValueError(f"{metric.name}: a {metric.kind} metric needs {' and '.join(fns)}")
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


def all_variants(refs: list[MetricRef]) -> list[MetricRef]:
    """Every variant of each metric named in ``refs`` (default first), for the disagreement report."""
    out, seen = [], set()
    for ref in refs:
        m = ref.metric
        for vname in [m.default_variant] + [v for v in m.variants if v != m.default_variant]:
            r = MetricRef(m, m.variants[vname])
            if r.key not in seen:
                seen.add(r.key)
                out.append(r)
    return out


PLUGINS_ENV = "THGEVAL_PLUGINS"
_PLUGINS: list[str] = []  # modules imported for their metrics, in order


def _load_builtin() -> None:
    # Importing the family modules registers their metrics exactly once.
    from . import (  # noqa: F401
        distribution, face_dynamics, face_region, fidelity, identity, landmarks, lipread, perceptual, sharpness,
        syncnet, transcript,
    )
    if not _PLUGINS_SEEN:
        _PLUGINS_SEEN.append(True)
        from importlib.metadata import entry_points

        names = [ep.module for ep in entry_points(group="thgeval.metrics")]
        names += [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
        load_plugins(names)


_PLUGINS_SEEN: list[bool] = []


def load_plugins(modules, *, strict: bool = True) -> list[str]:
    """Import modules that register metrics of their own (``register(Metric(...))`` at import).

    Plugins come from the ``thgeval.metrics`` entry-point group and the comma list in
    ``$THGEVAL_PLUGINS``; a run hands the list to its workers, which import the same ones.
    Returns every plugin module loaded so far; ``strict=False`` skips modules that cannot be
    imported instead of raising.
    """
    import importlib

    for name in modules:
        if name not in _PLUGINS:
            try:
                importlib.import_module(name)
            except ImportError as e:
                if not strict:
                    continue
                raise UnknownMetricError(f"metric plugin {name!r} cannot be imported: {e}") from None
            _PLUGINS.append(name)
    return list(_PLUGINS)


def plugins() -> list[str]:
    """The plugin modules loaded in this process (after the built-in metrics)."""
    _load_builtin()
    return list(_PLUGINS)
