"""Distribution metrics over a set of clips: FID and KID on Inception-v3 pool3 features.

Each clip's frames (its native frames, every ``stride``-th) become (N, 2048) features of
the FID Inception (:mod:`thgeval.nets.inception_fid`), cached by the clip's content hash, so
the GT side of a dataset is extracted once for every method and every later run. The set
value compares all of a method's frames with all GT frames (pooled, as Wav2Lip and Hallo
report FID), streaming the features clip by clip.

References
----------
M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium", NeurIPS 2017 (FID; code: mseitzer/pytorch-fid). M. Bińkowski et al.,
"Demystifying MMD GANs", ICLR 2018 (KID; code: toshas/torch-fidelity). G. Parmar et al.,
"On aliased resizing and surprising subtleties in GAN evaluation", CVPR 2022 (clean-fid).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MetricSkipped
from .registry import POOLED_FRAMES, SET, Metric, SetValue, Variant, register

WEIGHTS = "inception-fid"
STABLE_N = 2048  # fewer feature vectors than dimensions: the covariance is singular


# --- statistics ------------------------------------------------------------------------------

def feature_stats(chunks) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean, covariance (unbiased, as ``np.cov``) and count of feature rows given as an
    iterable of (n_i, D) arrays, in one streaming pass (float64 sums shifted by the first
    chunk's mean, so large offsets cost no precision)."""
    n, shift, s1, s2 = 0, None, None, None
    for x in chunks:
        x = np.asarray(x, np.float64)
        if not len(x):
            continue
        if shift is None:
            shift = x.mean(0)
            s1 = np.zeros_like(shift)
            s2 = np.zeros((len(shift), len(shift)))
        y = x - shift
        s1 += y.sum(0)
        s2 += y.T @ y
        n += len(x)
    if n < 2:
        raise MetricSkipped(f"{n} feature vectors: a covariance needs at least 2")
    m = s1 / n
    cov = (s2 - n * np.outer(m, m)) / (n - 1)
    return shift + m, cov, n


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), with the trace of the square root taken from
    the eigenvalues of the symmetric Σ₁^½ Σ₂ Σ₁^½ (same eigenvalues as Σ₁Σ₂; symmetric
    eigen-solvers only, no complex detour; eigenvalues below the rank tolerance of singular
    covariances count as 0)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError(f"statistics differ in shape: {mu1.shape}/{s1.shape} vs {mu2.shape}/{s2.shape}")
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    w = _nonneg(w)
    root1 = (v * np.sqrt(w)) @ v.T
    m = root1 @ s2 @ root1
    # rank(Σ₁^½ Σ₂ Σ₁^½) ≤ min(rank Σ₁, rank Σ₂): the other eigenvalues are 0, whatever
    # rounding makes of them (it matters with fewer samples than dimensions)
    rank = min(int((w > 0).sum()), int((_nonneg(np.linalg.eigvalsh((s2 + s2.T) / 2)) > 0).sum()))
    ev = np.linalg.eigvalsh((m + m.T) / 2)[::-1][:rank]
    tr_covmean = np.sqrt(np.clip(ev, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def _nonneg(ev: np.ndarray) -> np.ndarray:
    """Eigenvalues with the numerically-zero ones (below the rank tolerance of
    ``np.linalg.matrix_rank``: max · n · eps) set to 0: a singular covariance (fewer samples
    than dimensions) must not add the square roots of rounding noise to the trace."""
    tol = max(float(np.abs(ev).max(initial=0.0)), 0.0) * len(ev) * np.finfo(np.float64).eps
    return np.where(ev > tol, ev, 0.0)


def polynomial_mmd2(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                    coef0: float = 1.0) -> float:
    """Unbiased MMD² with the kernel k(a, b) = (γ a·b + c₀)^d, γ = 1/D by default."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    g = 1.0 / x.shape[1] if gamma is None else gamma
    kxx = (x @ x.T * g + coef0) ** degree
    kyy = (y @ y.T * g + coef0) ** degree
    kxy = (x @ y.T * g + coef0) ** degree
    m = len(x)
    sxx = kxx.sum() - np.trace(kxx)
    syy = kyy.sum() - np.trace(kyy)
    return float((sxx + syy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


class _Rows:
    """Rows of a list of per-clip arrays by global index, read clip by clip (memory-mapped)."""

    def __init__(self, clips):
        self.clips = clips
        sizes = clips.lengths() if hasattr(clips, "lengths") else [len(c) for c in clips]
        self.sizes = np.array(sizes, np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def take(self, idx: np.ndarray) -> np.ndarray:
        clip = np.searchsorted(self.starts, idx, side="right") - 1
        out = None
        for c in np.unique(clip):
            sel = np.flatnonzero(clip == c)
            block = np.asarray(self.clips[int(c)])[idx[sel] - self.starts[c]]
            if out is None:
                out = np.empty((len(idx), block.shape[1]), np.float64)
            out[sel] = block
        return out


def kid(pred, gt, *, subsets: int = 100, subset_size: int = 1000, degree: int = 3,
        gamma: float | None = None, coef0: float = 1.0, seed: int = 2020) -> tuple[float, float, int]:
    """KID as torch-fidelity computes it: mean (and std) of the unbiased polynomial MMD² over
    ``subsets`` random subsets of ``subset_size`` rows per side, drawn without replacement
    with ``np.random.RandomState(seed)`` (pred's draw, then GT's, per subset). ``pred`` and
    ``gt`` are lists of per-clip (n_i, D) arrays (rows in order). The subset size is reduced
    to the smaller side when that is smaller (returned third)."""
    a, b = _Rows(pred), _Rows(gt)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise MetricSkipped(f"KID needs at least 2 feature vectors per side; have {len(a)} and {len(b)}")
    rng = np.random.RandomState(seed)
    mmds = np.empty(subsets)
    for i in range(subsets):
        ia = rng.choice(len(a), m, replace=False)
        ib = rng.choice(len(b), m, replace=False)
        mmds[i] = polynomial_mmd2(a.take(ia), b.take(ib), degree, gamma, coef0)
    return float(mmds.mean()), float(mmds.std()), m


# --- features --------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _model(path: str, stamp: tuple, device: str):
    from ..nets.inception_fid import FIDInception

    return FIDInception(path).to(device)


def inception_model(device: str = "cpu"):
    from ..weights import locate

    p = Path(locate(WEIGHTS))
    return _model(str(p), (p.stat().st_size, p.stat().st_mtime_ns), device)


def inception_features(sample, side: str, *, stride: int = 1, preprocess: str = "pytorch-fid") -> np.ndarray:
    """(N, 2048) FID features of every ``stride``-th native frame of one side of a sample,
    with pytorch-fid's or clean-fid's resize and scaling (``preprocess``, see
    :func:`thgeval.nets.inception_fid.fid_features`)."""
    from ..nets.inception_fid import fid_features

    model = inception_model(sample.options.device)
    frames = sample.frames(side)[::stride]
    from .sample import batch_for

    # ≈ 25 MB of activations per 299² image at the widest layers (Conv2d_2b: 64×147×147 floats)
    return fid_features(model, frames, batch_size=batch_for(sample.options, 25e6), preprocess=preprocess)


inception_features.version = "1"


def _size_notes(n_pred: int, n_gt: int) -> list[str]:
    small = [f"{what} {n}" for what, n in (("generated", n_pred), ("GT", n_gt)) if n < STABLE_N]
    if not small:
        return []
    return [f"warning: fewer than {STABLE_N} frames ({', '.join(small)}): the covariance is singular and FID is "
            "biased upward; compare methods only at equal sample sizes"]


def _fid_set(pred, gt, **_) -> SetValue:
    mu1, s1, n1 = feature_stats(pred)
    mu2, s2, n2 = feature_stats(gt)
    return SetValue(frechet_distance(mu1, s1, mu2, s2), len(pred), n1, notes=_size_notes(n1, n2),
                    extra={"n_frames": n1, "n_gt_frames": n2})


def _kid_set(pred, gt, *, subsets: int, subset_size: int, seed: int, **_) -> SetValue:
    value, std, m = kid(pred, gt, subsets=subsets, subset_size=subset_size, seed=seed)
    notes = [] if m == subset_size else [f"subset size {m} (the smaller side), not {subset_size}"]
    n1 = len(_Rows(pred))
    return SetValue(value, len(pred), n1, notes=notes,
                    extra={"kid_std": std, "subset_size": m, "subsets": subsets, "n_gt_frames": len(_Rows(gt))})


_FRAMES = "every native frame of every clip, pooled"

register(Metric(
    name="fid", title="FID", higher_is_better=False, needs=frozenset({"gt"}), kind=SET,
    features_fn=inception_features, set_fn=_fid_set, version="1", family="distribution", value_range="≥ 0",
    requires_modules=("torch", "torchvision"), weights=(WEIGHTS,),
    variants={"pytorch-fid": Variant(
        "pytorch-fid", {"stride": 1},
        reference="mseitzer/pytorch-fid: FID Inception-v3 pool3 (2048-d), bilinear resize to 299, [-1, 1]; "
                  f"Fréchet distance of Gaussian fits; {_FRAMES}",
        aggregation=POOLED_FRAMES,
        notes=f"fewer than {STABLE_N} frames per side: warned (singular covariance)"),
        "clean": Variant(
            "clean", {"stride": 1, "preprocess": "clean"},
            reference="GaParmar/clean-fid 0.1.35 mode 'clean': the same FID Inception-v3 pool3 features on "
                      "frames resized per channel as float PIL images (bicubic, antialiased) to 299², clipped "
                      "to 0–255, then (x − 128)/128 (cleanfid/resize.py, inception_torchscript.py); Fréchet "
                      f"distance as cleanfid.fid.frechet_distance; {_FRAMES}",
            aggregation=POOLED_FRAMES,
            notes="parity with clean-fid's resize, its frechet_distance and its file pipeline on shared random "
                  "weights (tests/test_fid_clean.py); clean-fid's released weights are NVIDIA's TorchScript "
                  "export of the same TF graph, not used here")},
    default_variant="pytorch-fid",
    description="Fréchet Inception distance between the generated and the GT frames"))
register(Metric(
    name="kid", title="KID", higher_is_better=False, needs=frozenset({"gt"}), kind=SET,
    features_fn=inception_features, set_fn=_kid_set, version="1", family="distribution", value_range="≈ ≥ 0",
    requires_modules=("torch", "torchvision"), weights=(WEIGHTS,),
    variants={"torch-fidelity": Variant(
        "torch-fidelity", {"stride": 1, "subsets": 100, "subset_size": 1000, "seed": 2020},
        reference="toshas/torch-fidelity KID: unbiased MMD² with the cubic polynomial kernel (γ = 1/2048, c₀ = 1), "
                  f"mean over 100 subsets of 1000, RandomState(2020); pytorch-fid's Inception features; {_FRAMES}",
        aggregation=POOLED_FRAMES)},
    default_variant="torch-fidelity",
    description="kernel Inception distance between the generated and the GT frames"))


# --- FVD -------------------------------------------------------------------------------------

FVD_DIM = 400  # I3D logits: fewer windows than this and the covariance is singular


def video_windows(frames: np.ndarray, clip_len: int, step: int) -> np.ndarray:
    """Start indices of the ``clip_len``-frame windows of a clip, every ``step`` frames."""
    if len(frames) < clip_len:
        raise MetricSkipped(f"{len(frames)} frames: FVD needs clips of at least {clip_len}")
    return np.arange(0, len(frames) - clip_len + 1, step)


@lru_cache(maxsize=2)
def _video_model(kind: str, path: str, stamp: tuple, device: str):
    import torch

    opts = _DETECTORS[kind][1]
    if opts is None:
        return torch.jit.load(path, map_location=device).eval()
    from ..nets.i3d import I3D

    return I3D(path, **opts).to(device)


def _video_detector(kind: str, device: str):
    from ..weights import locate

    p = Path(locate(_DETECTORS[kind][0]))
    return _video_model(kind, str(p), (p.stat().st_size, p.stat().st_mtime_ns), device)


def i3d_features(sample, side: str, *, detector: str, clip_len: int | None, step: int | None, size: int | None,
                 prep: str | None = None, min_len: int = 1, first: int = 0, face: str | None = None) -> np.ndarray:
    """(W, 400) I3D features of the ``clip_len``-frame windows (every ``step`` frames) of a
    side's native frames; ``clip_len=None``: the whole clip is one video (at least ``min_len``
    frames), one feature row per clip; ``step=None`` with a ``clip_len``: only the one window
    that starts at frame ``first`` (LatentSync: frames 20–35), one row per clip.

    ``detector``: ``"i3d"`` thgeval's I3D with the VideoGPT / TATS constants, ``"i3d-piergiaj"``
    with piergiaj/pytorch-i3d's (DisCo), ``"torchscript"`` StyleGAN-V's TorchScript detector,
    always called ``(x, rescale=False, resize=False, return_features=True)``.
    ``prep`` (:mod:`thgeval.nets.i3d`): ``"tats"`` bilinear to ``size``² on 0–255 then
    2·x/255 − 1 (the default for the I3D detectors); ``"cmvq"`` short side to ``size``, centre
    crop, [−1, 1]; ``"disco"`` PIL float bicubic to ``size``², x/127.5 − 1; None with the
    TorchScript detector: the uint8 frames as they are, N×3×T×H×W; ``"latentsync"`` each frame
    cropped to its ``face`` box (``"mediapipe"``: :mod:`thgeval.face.mediapipe_boxes`), INTER_AREA
    to ``size``², left in [0, 1].
    """
    import torch

    from ..nets import i3d

    frames = sample.frames(side)
    if clip_len is None:
        if len(frames) < min_len:
            raise MetricSkipped(f"{len(frames)} frames: this FVD needs clips of at least {min_len}")
        starts, clip_len = np.array([0]), len(frames)
    elif step is None:
        if len(frames) < first + clip_len:
            raise MetricSkipped(f"{len(frames)} frames: this FVD takes frames {first}–{first + clip_len - 1}")
        starts = np.array([first])
    else:
        starts = video_windows(frames, clip_len, step)
    device = sample.options.device
    model = _video_detector(detector, device)
    prep = prep or (None if detector == "torchscript" else "tats")
    prepare = {"tats": i3d.tats_inputs, "cmvq": i3d.cmvq_inputs, "disco": i3d.disco_inputs}.get(prep)
    from .sample import batch_for

    # ≈ 80 MB of activations per 16×224² window (Conv3d_1a: 64×8×112×112 floats, then 192×8×56×56)
    pixels = (size or 0) ** 2 or frames.shape[1] * frames.shape[2]
    batch = batch_for(sample.options, 80e6 * pixels / 224 ** 2 * clip_len / 16)
    out = np.empty((len(starts), FVD_DIM), np.float32)
    with torch.inference_mode():
        for s in range(0, len(starts), batch):
            clips = np.stack([frames[a:a + clip_len] for a in starts[s:s + batch]])  # B×T×H×W×3
            if face is not None:
                # the box of every frame of every window; a window's frames are the detector's input
                boxes = np.stack([_face_boxes(face, c) for c in clips])
                x = i3d.latentsync_inputs(clips, boxes, size).to(device)
            elif prepare is not None:
                x = prepare(clips, size).to(device)
            else:
                x = torch.from_numpy(clips).to(device).permute(0, 4, 1, 2, 3).contiguous()
            if detector == "torchscript":
                feats = model(x, rescale=False, resize=False, return_features=True)
            else:
                feats = model(x)
            out[s:s + len(clips)] = feats.float().cpu().numpy().reshape(len(clips), -1)[:, :FVD_DIM]
    return out


i3d_features.version = "1"


def _face_boxes(face: str, frames: np.ndarray) -> np.ndarray:
    """(T, 4) pixel face boxes (x, y, w, h) of T frames by the named detector."""
    if face != "mediapipe":
        raise ValueError(f"unknown face detector {face!r}")
    from ..face.mediapipe_boxes import WEIGHTS as MP_WEIGHTS, mediapipe_face_boxes
    from ..weights import locate

    return mediapipe_face_boxes(frames, str(locate(MP_WEIGHTS)))

_DETECTORS = {  # name: (weights, I3D options; None: the TorchScript file)
    "torchscript": ("i3d-torchscript", None),
    "i3d": ("i3d-kinetics400", {}),
    "i3d-piergiaj": ("i3d-kinetics400", {"bn_eps": 1e-3, "pool_t": 1}),
}


def _fvd_set(pred, gt, **_) -> SetValue:
    mu1, s1, n1 = feature_stats(pred)
    mu2, s2, n2 = feature_stats(gt)
    small = [f"{w} {n}" for w, n in (("generated", n1), ("GT", n2)) if n < FVD_DIM]
    notes = [f"warning: fewer than {FVD_DIM} clip windows ({', '.join(small)}): the covariance is singular; "
             "StyleGAN-V uses 2048 clips per side"] if small else []
    return SetValue(frechet_distance(mu1, s1, mu2, s2), len(pred), n1, notes=notes,
                    extra={"n_windows": n1, "n_gt_windows": n2})


register(Metric(
    name="fvd", title="FVD", higher_is_better=False, needs=frozenset({"gt"}), kind=SET,
    features_fn=i3d_features, set_fn=_fvd_set, version="1", family="distribution", value_range="≥ 0",
    requires_modules=("torch",),
    variants={
        "stylegan-v": Variant(
            "stylegan-v", {"detector": "torchscript", "clip_len": 16, "step": 16, "size": None},
            reference="universome/stylegan-v fvd2048_16f: the TF-hub I3D as TorchScript (i3d_torchscript.pt) called "
                      "with rescale=False, resize=False, return_features=True on uint8 16-frame clips (N×3×16×H×W); "
                      "Fréchet distance of the 400-d features; here every 16-frame window of every clip",
            aggregation=POOLED_FRAMES, weights=("i3d-torchscript",),
            notes="StyleGAN-V samples 2048 clips per side from 256² datasets; thgeval uses each clip's "
                  "non-overlapping 16-frame windows at the clip's own size"),
        "tats": Variant(
            "tats", {"detector": "i3d", "clip_len": 16, "step": 16, "size": 224},
            reference="songweige/TATS / VideoGPT / cd-fvd: PyTorch I3D (i3d_pretrained_400.pt), frames bilinearly "
                      "resized to 224² on 0–255 then 2x/255 − 1, 400 logits averaged over time; 16-frame windows",
            aggregation=POOLED_FRAMES, weights=("i3d-kinetics400",)),
        "cmvq": Variant(
            "cmvq", {"detector": "torchscript", "clip_len": None, "step": None, "size": 224, "prep": "cmvq",
                     "min_len": 10},
            reference="JunyaoHu/common_metrics_on_video_quality calculate_fvd.py (method='styleganv', "
                      "only_final=True) + fvd/styleganv/fvd.py: StyleGAN-V's TorchScript I3D called with "
                      "rescale=False, resize=False, return_features=True on [0, 1] videos bilinearly resized "
                      "(short side 224), centre-cropped to 224² and mapped to [−1, 1]; the whole clip is one "
                      "video (≥ 10 frames); Fréchet distance with scipy sqrtm",
            aggregation=POOLED_FRAMES, weights=("i3d-torchscript",),
            notes="one feature per clip: the covariance is singular below 400 clips per side; their default "
                  "only_final=False reports the curve over prefix lengths 10…T, whose last value this is; "
                  "their code needs equal-length videos, thgeval takes each clip whole at its own length"),
        "disco": Variant(
            "disco", {"detector": "i3d-piergiaj", "clip_len": None, "step": None, "size": 224, "prep": "disco"},
            reference="Wangt-CN/DisCo tool/metrics (FVD-3DInception, used by Hallo): piergiaj/pytorch-i3d "
                      "InceptionI3d (batch norm eps 1e-3, 1×7×7 average pool) with i3d_pretrained_400.pt, each "
                      "frame PIL-bicubic resized to 224² as float, x/127.5 − 1, a whole video as one clip, 400 "
                      "logits averaged over time; pytorch-fid's Fréchet distance",
            aggregation=POOLED_FRAMES, weights=("i3d-kinetics400",),
            notes="one feature per clip (DisCo reads .mp4/.gif videos whole; its frame-folder path would "
                  "take sliding windows instead)"),
        "latentsync": Variant(
            "latentsync", {"detector": "torchscript", "clip_len": 16, "step": None, "first": 20, "size": 224,
                           "face": "mediapipe"},
            reference="bytedance/LatentSync eval/eval_fvd.py + eval/fvd.py: frames 20–35 of each video, the "
                      "first MediaPipe face (short-range BlazeFace, confidence ≥ 0.5) cropped per frame, "
                      "cv2.resize INTER_AREA to 224², /255 left in [0, 1] (not [−1, 1]), StyleGAN-V's "
                      "TorchScript I3D called with rescale=False, resize=False, return_features=True, one "
                      "16-frame clip per video; Fréchet distance with scipy sqrtm",
            aggregation=POOLED_FRAMES, weights=("i3d-torchscript", "mediapipe-face-short-range"),
            notes="needs the mediapipe package (imported lazily; the variant is skipped without it) and "
                  "the BlazeFace model file, run through MediaPipe's Tasks FaceDetector (MediaPipe 1.x has "
                  "no legacy solutions API); a clip with fewer than 36 frames or a frame without a face "
                  "is skipped (LatentSync fails there); one feature per clip: the covariance is singular "
                  "below 400 clips per side"),
    },
    default_variant="stylegan-v",
    description="Fréchet video distance between I3D features of the generated and the GT clips "
                "(16-frame windows or whole clips)"))
