"""A metric plugin for the backend tests: ``crash_probe`` kills its own worker process on
clips whose name contains ``crash`` and raises on clips named ``boom``; elsewhere it is the
mean grey level of the prediction (a number the tests can compare across backends)."""

from __future__ import annotations

import os
import signal

from thgeval.metrics import CLIP, ClipValue, Metric, Variant, register
from thgeval.metrics.sample import PRED


def _probe(sample, **params):
    if "crash" in sample.clip:
        os.kill(os.getpid(), signal.SIGKILL)  # what a segfault or the OOM killer looks like to the pool
    if "boom" in sample.clip:
        raise RuntimeError("probe exploded")
    frames = sample.frames(PRED)
    return ClipValue(float(frames.mean()), n_frames=len(frames))


register(Metric(
    name="crash_probe", title="crash probe", higher_is_better=True, needs=frozenset(), kind=CLIP, clip_fn=_probe,
    variants={"test": Variant("test", {}, "test plugin")}, default_variant="test", version="1",
    description="test plugin: kills its worker on clips named *crash*",
))
