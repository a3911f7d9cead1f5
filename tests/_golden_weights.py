"""Seeded random weights for golden tests: each tensor from its own generator (seed + crc32 of
its key), so the values do not depend on key order and a reference run outside the project can
regenerate them; and a hash of the values (not of a file's bytes, which old-format saves do not
keep stable)."""

from __future__ import annotations

import hashlib
import zlib

import numpy as np
import torch


def per_key_random_state(keys_shapes, seed: int) -> dict:
    """He-scaled weights, batch-norm statistics near 1, small biases; no ``num_batches_tracked``
    (the released files these stand in for predate those counters)."""
    out = {}
    for k, shape in keys_shapes:
        if k.endswith("num_batches_tracked"):
            continue
        g = torch.Generator().manual_seed(seed + zlib.crc32(k.encode()))
        if k.endswith("running_var"):
            v = 0.5 + torch.rand(shape, generator=g)
        elif k.endswith("running_mean") or k.endswith("bias"):
            v = 0.1 * torch.randn(shape, generator=g)
        elif len(shape) == 1:
            v = 0.8 + 0.4 * torch.rand(shape, generator=g)
        else:
            v = torch.randn(shape, generator=g) * float(np.sqrt(2.0 / np.prod(shape[1:])))
        out[k] = v
    return out


def values_sha256(state: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].detach().cpu().numpy().astype("<f4").tobytes())
    return h.hexdigest()
