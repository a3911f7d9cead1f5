"""Per-clip features of set-level metrics (FID, KID, FVD, ...), cached by content hash.

A clip's features depend on its bytes and on the extractor: the ``features_fn`` and the
parameters it accepts (so ``fid`` and ``kid`` with the same sampling share one Inception
pass, while ``kid``'s subset size, used only by its ``set_fn``, does not split the cache).
The cache lives outside any output folder, so the GT side of a dataset is computed once
for every run that uses it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..metrics import MetricRef


def extractor_params(ref: MetricRef) -> dict:
    """The variant parameters the metric's ``features_fn`` accepts."""
    fn = ref.metric.features_fn
    sig = inspect.signature(fn)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return ref.params()
    return {k: v for k, v in ref.params().items() if k in sig.parameters}


def feature_key(ref: MetricRef) -> str:
    """Identity of the extractor: function, its version, and the parameters it sees."""
    fn = ref.metric.features_fn
    blob = json.dumps({
        "fn": f"{fn.__module__}.{fn.__qualname__}",
        "version": str(getattr(fn, "version", ref.metric.version)),
        "params": extractor_params(ref),
    }, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class FeatureCache:
    """``<root>/<feature_key>/<sha256>.npy``, written atomically."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, fkey: str, sha: str) -> Path:
        return self.root / fkey / f"{sha}.npy"

    def has(self, fkey: str, sha: str | None) -> bool:
        return sha is not None and self.path(fkey, sha).is_file()

    def load(self, fkey: str, sha: str) -> np.ndarray:
        """Memory-mapped, so a set of 10,000 clips is streamed, not held."""
        return np.load(self.path(fkey, sha), mmap_mode="r")

    def put(self, fkey: str, sha: str, features: np.ndarray) -> None:
        p = self.path(fkey, sha)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp.npy")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(features))
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class FeatureList:
    """The per-clip feature arrays of one side of a set, loaded one at a time on access.

    A set-level metric iterates it once (running sums), so 10,000 clips never sit in
    memory together and no file stays open.
    """

    def __init__(self, cache: FeatureCache, fkey: str, shas: list[str]):
        self.cache, self.fkey, self.shas = cache, fkey, list(shas)

    def __len__(self) -> int:
        return len(self.shas)

    def __getitem__(self, i: int) -> np.ndarray:
        return np.array(self.cache.load(self.fkey, self.shas[i]))

    def __iter__(self):
        for i in range(len(self.shas)):
            yield self[i]

    def lengths(self) -> list[int]:
        """Rows of each clip's features, from the file headers (nothing else is read)."""
        return [len(self.cache.load(self.fkey, s)) for s in self.shas]
