"""A stand-in for :class:`thgeval.metrics.sample.Sample` in golden tests: exact frames (no video
encoding), pred already on GT's timeline and size, and the memo clip metrics share."""

from __future__ import annotations

import numpy as np

from thgeval.metrics.sample import Conformed, SampleOptions


class StubSample:
    has_gt = True

    def __init__(self, pred: np.ndarray, gt: np.ndarray, memo: dict | None = None):
        self._c = Conformed(pred, gt, np.arange(len(gt)), (1.0, 1.0), (1.0, 1.0), [])
        self._memo = dict(memo or {})  # preset entries, e.g. a "face-pair" with fixed landmarks or boxes
        self.options = SampleOptions()

    def conformed(self) -> Conformed:
        return self._c

    def path(self, side: str) -> str:
        return f"/golden/{side}"

    def memo(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    shared = memo
