"""Random S3FD weights in ``sfd_face.pth``'s format, biased so that random features still give
faces: the reference's confidence threshold (0.9) would otherwise pass no box."""

from __future__ import annotations

import zlib

import numpy as np
import torch

S3FD_SEED = 20261207
FACE_LOGIT = 4.0  # added to the face logit of the conv4_3 head (7×7 cells of 32-px anchors at scale 0.25)


def s3fd_state(seed: int = S3FD_SEED, face_logit: float = FACE_LOGIT) -> dict:
    """Seeded per key (independent of key order); He-scaled kernels, small biases, the L2Norm
    scales at their initial 10 / 8 / 5, and ``face_logit`` added to ``conf.1.bias[1]``."""
    from thgeval.nets.s3fd import S3FDNet

    out = {}
    for k, v in S3FDNet().state_dict().items():
        g = torch.Generator().manual_seed(seed + zlib.crc32(k.encode()))
        if k.startswith("L2Norm"):
            out[k] = v.clone()
        elif k.endswith("bias"):
            out[k] = 0.05 * torch.randn(v.shape, generator=g)
        else:
            out[k] = torch.randn(v.shape, generator=g) * float(np.sqrt(2.0 / np.prod(v.shape[1:])))
    out["conf.1.bias"][1] += face_logit
    return out


def save_s3fd(state: dict, path):
    """``torch.save`` in the legacy (pre-1.6) serialisation, as the released file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path
