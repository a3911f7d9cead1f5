"""State dicts in their released file formats: read, check by name and shape, load; and
random weights in a network's own layout for tests and benchmarks (the real files cannot be
downloaded everywhere)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ThgevalError


def read_state(src) -> dict:
    """A state dict given as a dict or a ``torch.save`` file; ThgevalError names a bad file."""
    if isinstance(src, dict):
        return src
    try:
        state = torch.load(Path(src), map_location="cpu", weights_only=True)
    except Exception as e:
        raise ThgevalError(f"{src}: not a loadable state dict ({type(e).__name__}: {str(e)[:100]})") from None
    if not isinstance(state, dict):
        raise ThgevalError(f"{src}: expected a state dict, found {type(state).__name__}")
    return state


def load_checked(module: nn.Module, src, what: str) -> None:
    """Load every tensor ``module`` has from ``src`` by name; missing or misshapen ones are an
    error naming ``what`` (BatchNorm's counters, absent from old files, excepted; extra keys
    such as an unused classifier are ignored)."""
    state = read_state(src)
    own = module.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    bad = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or bad:
        raise ThgevalError(f"not {what} (missing or misshapen: {', '.join((missing + bad)[:3])})")
    module.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)


def random_state(module: nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in ``module``'s layout, scaled so activations stay O(1) through deep
    conv/batch-norm stacks: He-scaled kernels, batch norms near identity."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in module.state_dict().items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.zeros_like(v)
        elif k.endswith("running_var"):
            out[k] = 0.5 + torch.rand(v.shape, generator=g)
        elif k.endswith("running_mean") or k.endswith("bias"):
            out[k] = 0.05 * torch.randn(v.shape, generator=g)
        elif k.endswith("bn.weight"):
            out[k] = 0.8 + 0.4 * torch.rand(v.shape, generator=g)
        else:
            fan_in = int(np.prod(v.shape[1:]))
            out[k] = torch.randn(v.shape, generator=g) * float(np.sqrt(2.0 / fan_in))
    return out
