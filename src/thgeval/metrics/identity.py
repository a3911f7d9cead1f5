"""Identity metrics: CSIM (cosine similarity to a reference face) and AED (embedding distance
to the GT frame), on the identity embeddings of :mod:`thgeval.face.embed`.

The embedding backend is part of the variant (``dlib`` built in: the 128-d ResNet of
``face_recognition_models``); a backend registered with
:func:`thgeval.face.register_embedder` (ArcFace through onnxruntime, say) is another variant.
Each clip's embeddings are computed once per backend, on the frames where its face was
detected (never on interpolated or missing faces), and shared by both metrics.

References
----------
CSIM: E. Zakharov et al., "Few-Shot Adversarial Learning of Realistic Neural Talking Head
Models", ICCV 2019 (cosine similarity of identity embeddings between source and generated
faces). AED: A. Siarohin et al., "First Order Motion Model for Image Animation", NeurIPS 2019;
the ``fomm`` variant restates AliaksandrSiarohin/pose-evaluation ``extract.py --type face_id``
+ ``cmp.py`` (OpenFace nn4.small2 of thnkim/OpenFacePytorch on whole frames).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MetricSkipped, ThgevalError
from .face_pairs import detected, face_pair, with_exclusions
from .registry import CLIP, MEAN_OF_CLIP_MEANS, POOLED_FRAMES, ClipValue, Metric, Variant, register
from .sample import GT, PRED, REAL


def cosine_to_reference(embeddings: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N,) cosine similarity of each row of ``embeddings`` (N, D) to ``reference`` (D,),
    in −1…1 (NaN rows stay NaN)."""
    from ..face import cosine_similarity

    return cosine_similarity(np.asarray(embeddings, np.float64), np.asarray(reference, np.float64)[None])


def clip_embeddings(sample, side: str, backend: str) -> np.ndarray:
    """(T, D) embeddings of a side's native frames; NaN rows where no face was detected.

    Memoised per clip job (GT embeddings serve every method)."""
    from ..face import embed_faces

    path = sample.path(side)

    def compute():
        track = sample.face(side)
        out = None
        idx = np.flatnonzero(detected(track))
        emb = embed_faces(sample.frames(side), track, idx, backend=backend)
        out = np.full((len(track), emb.shape[1] if emb.ndim == 2 else 0), np.nan, np.float32)
        out[idx] = emb
        return out

    return sample.shared(("embeddings", backend, str(path)), compute)


def read_image(path: Path) -> np.ndarray:
    """An image file as H×W×3 uint8 RGB; ThgevalError naming the file if it cannot be read."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ThgevalError(f"reference image {path.name}: cannot be read as an image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def reference_embedding(sample, backend: str) -> tuple[np.ndarray, str]:
    """The identity the generated frames are compared with, and where it came from.

    The reference image of the clip (``--ref``) when given; else the first GT frame with a
    detected face; for the ``real`` row (GT clips scored on their own), the clip's own first
    such frame. Raises MetricSkipped when there is no face to compare with.
    """
    from ..face import embed_image

    if sample.reference is not None:
        emb = sample.shared(("ref-embedding", backend, str(sample.reference)),
                            lambda: embed_image(read_image(sample.reference), backend=backend))
        if emb is None:
            raise MetricSkipped(f"no face found in the reference image {sample.reference.name}")
        return emb, f"reference image {sample.reference.name}"
    side = GT if sample.has_gt else PRED if sample.method == REAL else None
    if side is None:
        raise MetricSkipped("no GT clip and no reference image (--ref) to take the identity from")
    emb = clip_embeddings(sample, side, backend)
    first = np.flatnonzero(np.isfinite(emb).all(axis=1))
    if not len(first):
        raise MetricSkipped(f"no face detected in any {'GT' if side == GT else ''} frame".replace("  ", " "))
    return emb[first[0]], f"{'GT' if side == GT else 'the clip'}'s frame {int(first[0])}"


def _csim_gt_frames(sample, backend: str) -> ClipValue:
    """CSIM of GT frame t against generated frame t with a PyTorch ArcFace backend of
    :mod:`thgeval.nets.face_id` (bilayer-model's and the ViCo baseline's pairing)."""
    from ..nets import face_id

    if not sample.has_gt:
        raise MetricSkipped("this CSIM compares each generated frame with its GT frame: no GT clip")
    c = sample.conformed()
    n = len(c.gt)
    notes, use, lm = list(c.notes), np.ones(n, bool), None
    if face_id.BACKENDS[backend][2] == "gt-landmarks":
        # only the GT frame's landmarks are used (its transform crops both frames)
        pair = face_pair(sample, need_both=False)
        use = pair.gt_detected.copy()
        lm = pair.gt[use]
        if not use.all():
            notes.append(f"{int((~use).sum())} of {n} frames without a detected GT face excluded")
    device = sample.options.device
    net = face_id.network(backend, device)
    idx = np.flatnonzero(use)
    eg = sample.shared(("gt-frame-embeddings", backend, str(sample.path(GT)), c.gt.shape, tuple(c.gt_scale)),
                       lambda: face_id.frame_embeddings(backend, c.gt, idx, lm, net=net, device=device))
    ep = face_id.frame_embeddings(backend, c.pred, idx, lm, net=net, device=device)
    cos = np.full(n, np.nan)
    cos[idx] = face_id.cosine_rows(eg, ep)
    return ClipValue(float(cos[idx].mean()), len(idx), series=cos.astype(np.float32), notes=notes,
                     extra={"backend": backend, "reference": "GT frame t"})


def _csim_clip(sample, *, backend: str, pairing: str = "reference") -> ClipValue:
    if pairing == "gt-frame":
        return _csim_gt_frames(sample, backend)
    ref, source = reference_embedding(sample, backend)
    emb = clip_embeddings(sample, PRED, backend)
    ok = np.isfinite(emb).all(axis=1)
    if not ok.any():
        raise MetricSkipped("no face detected in any generated frame")
    cos = np.full(len(emb), np.nan)
    cos[ok] = cosine_to_reference(emb[ok], ref)
    notes = [f"identity of {source}"]
    if not ok.all():
        notes.append(f"{int((~ok).sum())} of {len(ok)} frames without a detected face excluded")
    return ClipValue(float(cos[ok].mean()), int(ok.sum()), series=cos.astype(np.float32), notes=notes,
                     extra={"backend": backend, "reference": source})


# --- pose-evaluation's AED: OpenFace on whole frames -------------------------------------------

# skimage ``resize`` modes → scipy.ndimage modes (skimage's own translation, grid variants)
_NDI_MODES = {"constant": "grid-constant", "edge": "nearest", "symmetric": "reflect", "reflect": "mirror",
              "wrap": "grid-wrap"}


def skimage_resize(image: np.ndarray, size: tuple[int, int], *, anti_aliasing: bool,
                   mode: str = "reflect") -> np.ndarray:
    """``skimage.transform.resize(image, size)`` with ``order=1`` (bilinear), restated on
    scipy.ndimage: uint8 → float64 in [0, 1], optional Gaussian pre-filter of σ = (s − 1)/2
    per downscaled axis, pixel-centre-aligned zoom, output clipped to the input's range.

    ``anti_aliasing`` is the argument skimage ≥ 0.15 defaults to True when shrinking;
    scikit-image 0.14.0 (pose-evaluation's requirements.txt) had it False and ``mode``
    'constant' (no pixel outside the image is touched when shrinking, so the mode only matters
    for enlarging). Returns (h, w, C) float64.
    """
    from scipy import ndimage as ndi

    img = np.asarray(image)
    x = img.astype(np.float64) / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)
    out_shape = tuple(size) + x.shape[2:]
    factors = np.divide(x.shape, out_shape)
    ndi_mode = _NDI_MODES[mode]
    lo, hi = float(x.min()), float(x.max())  # skimage clips to the unfiltered input's range
    if anti_aliasing:
        x = ndi.gaussian_filter(x, np.maximum(0, (factors - 1) / 2), cval=0, mode=ndi_mode)
    out = ndi.zoom(x, 1 / factors, order=1, mode=ndi_mode, cval=0, grid_mode=True)
    return np.clip(out, lo, hi, out=out)


@lru_cache(maxsize=2)  # one load per process and LRN mode, not per clip
def _openface(path: str, lrn: str):
    from ..nets.openface import load_openface

    return load_openface(path, lrn)


def openface_embeddings(frames: np.ndarray, net, *, size: int = 96, anti_aliasing: bool = False,
                        resize_mode: str = "constant", crop_width: int | None = 256,
                        batch: int = 32) -> np.ndarray:
    """(T, 128) float32 OpenFace embeddings of whole RGB frames as pose-evaluation's
    ``extract_face_id`` computes them: the first ``crop_width`` columns (``frames2array``'s
    column slice for ``--image_shape H,W``; no resize), RGB → BGR, skimage bilinear resize
    to ``size``² in [0, 1], float32, the network. Frames are batched; the reference feeds one
    at a time (batch-norm in eval mode, so only float rounding differs)."""
    import torch

    x = np.asarray(frames)
    if crop_width:
        x = x[:, :, :crop_width]
    inp = np.stack([skimage_resize(f[..., ::-1], (size, size), anti_aliasing=anti_aliasing, mode=resize_mode)
                    for f in x]).astype(np.float32).transpose(0, 3, 1, 2)
    out = []
    with torch.no_grad():
        for i in range(0, len(inp), batch):
            out.append(net(torch.from_numpy(np.ascontiguousarray(inp[i:i + batch]))).numpy())
    return np.concatenate(out) if out else np.zeros((0, 128), np.float32)


def squared_embedding_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,) ``np.sum(|a − b|²)`` per row, as pose-evaluation's ``cmp.py`` scores each frame
    (the *squared* Euclidean distance; float32 differences, float64 sum)."""
    return (np.abs(np.asarray(a) - np.asarray(b)).astype(np.float64) ** 2).sum(axis=1)


def _aed_whole_frames(sample, *, lrn: str, size: int, anti_aliasing: bool, resize_mode: str,
                      crop_width: int | None) -> ClipValue:
    import importlib.util

    from ..weights import locate

    if importlib.util.find_spec("torch") is None:
        raise MetricSkipped("aed@fomm needs PyTorch: pip install 'thgeval[deep]'")
    net = _openface(str(locate("openface-nn4-small2")), lrn)
    c = sample.conformed()  # pred on GT's timeline: cmp.py pairs frames by number
    opts = dict(size=size, anti_aliasing=anti_aliasing, resize_mode=resize_mode, crop_width=crop_width)
    ep = openface_embeddings(c.pred, net, **opts)
    eg = openface_embeddings(c.gt, net, **opts)
    d = squared_embedding_distance(ep, eg)
    return ClipValue(float(d.mean()), len(d), series=d.astype(np.float32), notes=list(c.notes),
                     extra={"backend": "openface", "distance": "squared L2"})


def _aed_clip(sample, *, backend: str, **whole) -> ClipValue:
    if backend == "openface":
        return _aed_whole_frames(sample, **whole)
    pair = face_pair(sample)
    c = sample.conformed()
    n = len(pair.usable)
    ep = clip_embeddings(sample, PRED, backend)[c.pred_index[:n]]
    eg = clip_embeddings(sample, GT, backend)[:n]
    use = pair.usable & np.isfinite(ep).all(1) & np.isfinite(eg).all(1)
    if not use.any():
        raise MetricSkipped("no frame where both the generated and the GT face were embedded")
    d = np.full(n, np.nan)
    d[use] = np.linalg.norm(ep[use].astype(np.float64) - eg[use], axis=1)
    return ClipValue(float(d[use].mean()), int(use.sum()), series=d.astype(np.float32),
                     notes=with_exclusions(pair), extra={"backend": backend})


register(Metric(
    name="csim", title="CSIM", higher_is_better=True, needs=frozenset({"face"}), kind=CLIP, clip_fn=_csim_clip,
    version="1", family="identity", value_range="[-1, 1]",
    variants={"dlib": Variant(
        "dlib", {"backend": "dlib"},
        reference="cosine similarity of identity embeddings (Zakharov et al. 2019) with dlib's 128-d ResNet "
                  "face descriptor (face_recognition_models): reference face (--ref image, else the first GT "
                  "frame with a face) against each generated frame with a detected face, mean over frames",
        aggregation=MEAN_OF_CLIP_MEANS,
        notes="the real row compares each GT frame with the clip's own first face (the real-video level)"),
        "insightface": Variant(
            "insightface", {"backend": "arcface"},
            reference="insightface ArcFace (buffalo_l w600k_r50.onnx, ResNet-50 WebFace600K) through onnxruntime on "
                      "norm_crop 112² crops: reference face against each generated frame, cosine, mean over frames "
                      "(what recent audio-driven THG papers describe)",
            aggregation=MEAN_OF_CLIP_MEANS, weights=("arcface-w600k-r50",),
            notes="five points from dlib's 68 landmarks (eye centres, nose tip, mouth corners) instead of "
                  "insightface's SCRFD detector; needs onnxruntime (thgeval[arcface])"),
        "bilayer": Variant(
            "bilayer", {"backend": "irse50", "pairing": "gt-frame"},
            reference="saic-violet/bilayer-model losses/csim.py (Zakharov et al. 2020): IR-SE-50 ArcFace "
                      "(TreB1eN/InsightFace_Pytorch model_ir_se50.pth) on 112x112 crops, the GT frame's 5 points "
                      "(eye centres 36-41/42-47, nose 30, mouth corners 48/54) similarity-aligned to bilayer's "
                      "template, the same transform cropping GT and generated frame (affine_grid/grid_sample), "
                      "input (x/255 - 0.5) * 2 RGB; cosine of GT frame t and generated frame t; mean over all frames",
            aggregation=POOLED_FRAMES, weights=("arcface-irse50-treb1en",),
            notes="landmarks from thgeval's dlib face track instead of face-alignment (2D-FAN); frames without a "
                  "detected GT face are excluded; bilayer's x/y image-size swap (harmless on its square frames) "
                  "is not reproduced; bilayer's template is wider than insightface's arcface_dst"),
        "vico": Variant(
            "vico", {"backend": "iresnet100", "pairing": "gt-frame"},
            reference="dc3ea9f/vico_challenge_baseline evaluations/arcface_torch/compute_csim.py: arcface_torch "
                      "IResNet-100 (MS1MV3 backbone.pth), the whole frame cv2.resize'd to 112x112, RGB, "
                      "(x/255 - 0.5)/0.5, no face detection; cosine of GT frame t and generated frame t, "
                      "mean over all frames of all clips (pooled)",
            aggregation=POOLED_FRAMES, weights=("arcface-r100-ms1mv3",),
            notes="meaningful only on face-cropped clips (ViCo's are); the face track is not used")},
    default_variant="dlib",
    description="identity similarity between the reference face and the generated frames"))
register(Metric(
    name="aed", title="AED", higher_is_better=False, needs=frozenset({"gt", "face"}), kind=CLIP, clip_fn=_aed_clip,
    version="1", family="identity", value_range="≥ 0",
    variants={"dlib": Variant(
        "dlib", {"backend": "dlib"},
        reference="Siarohin et al. 2019 average embedding distance with dlib's 128-d descriptor of the "
                  "landmark-aligned face: Euclidean distance between GT and generated frame, mean over frames "
                  "where both faces were detected (dlib calls < 0.6 the same person)",
        aggregation=MEAN_OF_CLIP_MEANS),
        "fomm": Variant(
            "fomm", {"backend": "openface", "lrn": "legacy-port", "size": 96, "anti_aliasing": False,
                     "resize_mode": "constant", "crop_width": 256},
            reference="AliaksandrSiarohin/pose-evaluation extract.py --type face_id --image_shape 256,256 + cmp.py, "
                      "in its pinned environment (scikit-image 0.14.0, torch 0.4.1): whole frames (first 256 "
                      "columns), BGR, skimage resize to 96×96 without anti-aliasing, OpenFace nn4.small2 "
                      "(thnkim/OpenFacePytorch, legacy SpatialCrossMapLRN port); per frame the squared L2 "
                      "distance of the 128-d embeddings, pooled over all frames",
            aggregation=POOLED_FRAMES, weights=("openface-nn4-small2",),
            notes="no face detection or alignment: faces must fill the frame (FOMM's 256×256 crops); "
                  "needs torch"),
        "fomm-current": Variant(
            "fomm-current", {"backend": "openface", "lrn": "torch", "size": 96, "anti_aliasing": True,
                             "resize_mode": "reflect", "crop_width": 256},
            reference="the same pose-evaluation scripts run with today's libraries (scikit-image ≥ 0.19: "
                      "anti-aliased resize, mode reflect; torch ≥ 1.0: the port falls back to "
                      "torch.nn.LocalResponseNorm); squared L2, pooled over all frames",
            aggregation=POOLED_FRAMES, weights=("openface-nn4-small2",),
            notes="what re-running FOMM's evaluation today gives; differs from fomm by the resize filter and LRN")},
    default_variant="dlib",
    description="average identity-embedding distance between each generated frame and its GT frame"))
