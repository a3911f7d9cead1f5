"""thgeval: evaluation of talking-head generation, every metric as its reference computes it."""

__version__ = "0.1.0"

from .io import Clip, ClipInfo, ClipReader, load_clip, probe, write_clip  # noqa: E402,F401


def evaluate(*args, **kwargs):
    """Run an evaluation; see :func:`thgeval.run.evaluate`."""
    from .run.engine import evaluate as _evaluate

    return _evaluate(*args, **kwargs)
