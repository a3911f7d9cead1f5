"""Pretrained weights some metrics need: a manifest (data), a verified store, and lookup.

Entries live in ``manifest.toml`` beside this file. Files are looked up in the offline
folder ``$THGEVAL_WEIGHTS_DIR`` (if set) and then in ``$THGEVAL_HOME/weights`` (default
``~/.cache/thgeval/weights``). Nothing here downloads; see :mod:`thgeval.weights.fetch`.
"""

from __future__ import annotations

from .registry import (  # noqa: F401
    WeightsEntry,
    WeightsMissing,
    entries,
    find,
    get,
    home,
    locate,
    search_dirs,
)
