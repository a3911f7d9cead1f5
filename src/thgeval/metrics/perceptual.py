"""LPIPS on whole frames and on aligned face crops (:mod:`thgeval.nets.lpips`).

Clip-level metrics so the network runs batched on the run's device (``--device``): each
frame of the prediction on GT's timeline (the run's conform policy) against its GT frame;
``lpips_face`` on the 256×256 crops of :mod:`thgeval.metrics.face_region` (GT's similarity
transform on both clips). Per-frame values, mean per clip, mean of clip means.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .face_region import FACE_SIZE, aligned_face_pair
from .registry import CLIP, MEAN_OF_CLIP_MEANS, ClipValue, Metric, Variant, register

BACKBONE = {"alex": "alexnet-torchvision", "vgg": "vgg16-torchvision"}
HEADS = {"alex": "lpips-alex-v0.1", "vgg": "lpips-vgg-v0.1"}


@lru_cache(maxsize=4)  # one network per process, device and weights files
def _model(net: str, backbone: str, heads: str, stamp: tuple, device: str):
    from ..nets.lpips import LPIPS

    return LPIPS(net, backbone=backbone, heads=heads).to(device)


def lpips_model(net: str = "alex", device: str = "cpu"):
    """The LPIPS network with the registry's weights; MetricSkipped names the fetch command."""
    from pathlib import Path

    from ..weights import locate

    b, h = locate(BACKBONE[net]), locate(HEADS[net])
    stamp = tuple((Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in (b, h))
    return _model(net, str(b), str(h), stamp, device)


# activation bytes per image pair and pixel (both images' five normalised taps, the largest
# transient convolution output, the inputs), measured from the layer shapes, rounded up
BYTES_PER_PIXEL = {"alex": 120, "vgg": 1300}


def _batch(sample, net: str, frames: np.ndarray) -> int:
    from .sample import batch_for

    h, w = frames.shape[1:3]
    return batch_for(sample.options, BYTES_PER_PIXEL[net] * h * w)


def _lpips_clip(sample, *, net: str) -> ClipValue:
    from ..nets.lpips import lpips_distances

    model = lpips_model(net, sample.options.device)
    c = sample.conformed()
    d = lpips_distances(model, c.pred, c.gt, batch_size=_batch(sample, net, c.gt))
    return ClipValue(float(d.mean()), len(d), series=d.astype(np.float32), notes=list(c.notes),
                     extra={"net": net})


def _lpips_face_clip(sample, *, net: str, size: int) -> ClipValue:
    from ..errors import MetricSkipped
    from ..nets.lpips import lpips_distances

    p, g, ok, notes = aligned_face_pair(sample, size)
    if not len(p):
        raise MetricSkipped("no frame inside the GT face track")
    model = lpips_model(net, sample.options.device)
    d = lpips_distances(model, p, g, batch_size=_batch(sample, net, g))
    series = np.full(len(ok), np.nan)
    series[ok] = d
    return ClipValue(float(d.mean()), len(d), series=series.astype(np.float32), notes=notes,
                     extra={"net": net, "crop": f"{size}x{size} similarity-aligned on GT"})


def _variants(face: bool) -> dict[str, Variant]:
    where = f"on {FACE_SIZE}² face crops aligned by GT's similarity transform" if face else "on whole frames"
    extra = {"size": FACE_SIZE} if face else {}
    return {
        net: Variant(net, {"net": net, **extra},
                     reference=f"lpips package v0.1 (Zhang et al. 2018), {name} backbone, linear heads, inputs in "
                               f"[-1, 1], spatial average, {where}",
                     aggregation=MEAN_OF_CLIP_MEANS, weights=(BACKBONE[net], HEADS[net]))
        for net, name in (("alex", "AlexNet"), ("vgg", "VGG-16"))
    }


_SHARED = dict(higher_is_better=False, kind=CLIP, version="1", family="perceptual", value_range="≥ 0",
               requires_modules=("torch", "torchvision"), default_variant="alex")

register(Metric(
    name="lpips", title="LPIPS", needs=frozenset({"gt"}), clip_fn=_lpips_clip, variants=_variants(False),
    description="learned perceptual image patch similarity between generated and GT frames", **_SHARED))
register(Metric(
    name="lpips_face", title="LPIPS (face)", needs=frozenset({"gt", "face"}), clip_fn=_lpips_face_clip,
    variants=_variants(True), description="LPIPS of the aligned face region", **_SHARED))
