"""Landmark comparisons of a generated clip with its GT: LMD (mouth, face), AKD and MKR.

Array functions first (``landmark_distance``, ``keypoint_distance``), then the registered
metrics that feed them the landmark pairs of a Sample (:mod:`thgeval.metrics.face_pairs`):
dlib's 68 points (iBUG 300-W order) of each side's face track, pred on GT's timeline.

References
----------
L. Chen, R. K. Maddox, Z. Duan, C. Xu, "Hierarchical Cross-Modal Talking Face Generation
with Dynamic Pixel-Wise Loss", CVPR 2019 (ATVGnet; LMD as in Chen et al., ECCV 2018, "Lip
Movements Generation at a Glance").
A. Siarohin, S. Lathuilière, S. Tulyakov, E. Ricci, N. Sebe, "First Order Motion Model for
Image Animation", NeurIPS 2019 (AKD, MKR, AED; code: AliaksandrSiarohin/pose-evaluation).
"""

from __future__ import annotations

import numpy as np

from .face_pairs import FACE, MOUTH, face_pair, with_exclusions
from .registry import CLIP, MEAN_OF_CLIP_MEANS, POOLED_FRAMES, ClipValue, Metric, Variant, register

CANONICAL_SIZE = 256


def landmark_distance(pred: np.ndarray, gt: np.ndarray, *, points=MOUTH, center: bool = False,
                      reduce: str = "mean", norm: str = "l2") -> np.ndarray:
    """Per-frame distance between corresponding landmarks of two faces.

    Parameters
    ----------
    pred, gt : (T, 68, 2) landmark coordinates, pixels (dlib's 68-point order).
    points : indices of the points compared (default the mouth, 48–67).
    center : subtract each frame's centroid of the chosen points from each side first
        (ATVGnet's ``compare_landmarks``: translation removed, no scale or rotation).
    reduce : ``"mean"`` or ``"sum"`` over the points.
    norm : ``"l2"`` Euclidean distance per point, or ``"l1"`` mean absolute difference per
        coordinate (the two coordinates averaged per point).

    Returns
    -------
    (T,) float64 distances in the pixels of the input (NaN where a side is NaN).
    """
    idx = list(points)
    a = np.asarray(pred, np.float64)[:, idx]
    b = np.asarray(gt, np.float64)[:, idx]
    if center:
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    d = a - b
    per_point = np.sqrt((d ** 2).sum(-1)) if norm == "l2" else np.abs(d).mean(-1)
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2'; got {norm!r}")
    if reduce == "mean":
        return per_point.mean(-1)
    if reduce == "sum":
        return per_point.sum(-1)
    raise ValueError(f"reduce must be 'mean' or 'sum'; got {reduce!r}")


def dlib_gray_landmarks(frames: np.ndarray, upsample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """68 landmarks per frame as ATVGnet's ``generating_landmark_lips`` finds them.

    Each RGB frame goes to grey with OpenCV (``cvtColor(BGR2GRAY)`` of the BGR frame the
    reference reads from disk), dlib's frontal detector runs on it with ``upsample`` (1 there)
    and the 68-point predictor fits inside each box on the grey image; with several faces the
    last one wins (the reference overwrites its file per face). Every frame is detected anew:
    no tracking, no interpolation.

    Returns
    -------
    (T, 68, 2) float64 integer pixel coordinates (NaN where no face), (T,) bool detected.
    """
    import cv2

    from ..face import models

    det, sp = models.hog_detector(), models.shape_predictor()
    out = np.full((len(frames), 68, 2), np.nan)
    found = np.zeros(len(frames), bool)
    for t, f in enumerate(frames):
        gray = cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY)
        rects = det(gray, upsample)
        if len(rects):
            shape = sp(gray, rects[len(rects) - 1])
            out[t] = [(q.x, q.y) for q in shape.parts()]
            found[t] = True
    return out, found


def _per_frame_pair(sample, upsample: int):
    """Both sides' per-frame landmarks on the comparison timeline (memoised per sample)."""
    from ..errors import MetricSkipped

    def build():
        c = sample.conformed()
        return dlib_gray_landmarks(c.pred, upsample), dlib_gray_landmarks(c.gt, upsample)

    (a, da), (b, db) = sample.memo(("dlib-gray-landmarks", upsample), build)
    if not db.any():
        raise MetricSkipped("no face detected in any GT frame")
    if not (da & db).any():
        raise MetricSkipped("no frame where both the generated and the GT face were detected")
    return a, b, da & db


def canonical_landmarks(track, size: int = CANONICAL_SIZE) -> np.ndarray:
    """A track's landmarks mapped by its own smoothed similarity transform onto the canonical
    ``size``×``size`` face template (:func:`thgeval.face.similarity_transforms`): head
    position, size and in-plane rotation removed, so what remains is the face's shape."""
    from ..face import similarity_transforms, transform_points

    return transform_points(track.landmarks, similarity_transforms(track, size))


def _fan_pair(sample, pair, *, flip: bool = True, crop_width: int | None = None):
    """FAN landmarks of both sides inside the face track's boxes on the conformed frames
    (memoised per sample); the net is loaded once per process. ``flip``: face_alignment's
    ``flip_input``; ``crop_width``: frames cut to their first columns first (pose-evaluation's
    ``frames2array`` with ``--image_shape``)."""
    from ..nets.fan import fan_landmarks

    def build():
        c = sample.conformed()
        sp, sg = np.tile(np.asarray(c.pred_scale, np.float64), 2), np.tile(np.asarray(c.gt_scale, np.float64), 2)
        bp = np.where(pair.usable[:, None], pair.pred_track.boxes * sp, np.nan)
        bg = np.where(pair.usable[:, None], pair.gt_track.boxes * sg, np.nan)
        net = _fan_net()
        fp, fg = c.pred[:len(bp)], c.gt[:len(bg)]
        if crop_width:
            fp, fg = fp[:, :, :crop_width], fg[:, :, :crop_width]
        return fan_landmarks(net, fp, bp, flip=flip), fan_landmarks(net, fg, bg, flip=flip)

    return sample.memo(("fan-landmarks", flip, crop_width), build)


def _sfd_frames(sample, crop_width: int | None):
    """The conformed (pred, GT) frames on one timeline, cut to their first ``crop_width``
    columns when given: what the references hand to ``FaceAlignment.get_landmarks``."""
    c = sample.conformed()
    n = min(len(c.pred), len(c.gt))
    fp, fg = c.pred[:n], c.gt[:n]
    if crop_width:
        fp, fg = fp[:, :, :crop_width], fg[:, :, :crop_width]
    return fp, fg


def _sfd_boxes(sample, crop_width: int | None = None):
    """Per side and frame the first face face_alignment's SFD detector returns (the
    highest-scoring box, the one ``get_landmarks(frame)[0]`` fits) and the number of faces it
    found: ((T, 4) pred boxes, (T,) counts, (T, 4) GT boxes, (T,) counts), NaN boxes where
    none was found (memoised per sample and cut)."""
    from ..face.sfd_boxes import first_boxes, sfd_net

    def build():
        net = sfd_net()
        fp, fg = _sfd_frames(sample, crop_width)
        return (*first_boxes(net, fp), *first_boxes(net, fg))

    return sample.memo(("sfd-boxes", crop_width), build)


def _fan_sfd_pair(sample, *, flip: bool = True, crop_width: int | None = None):
    """FAN landmarks of both sides in face_alignment's own SFD boxes, found anew on every
    frame as ``FaceAlignment.get_landmarks(frame)`` does: (pred, GT) (T, 68, 2) landmarks
    (NaN where a side has no face), the (T,) frames where both have one, the notes (frames
    dropped, frames with several faces) and the row's extra fields (``detection_rate``: share
    of GT frames where SFD found a face)."""
    from ..errors import MetricSkipped
    from ..nets.fan import fan_landmarks

    bp, kp, bg, kg = _sfd_boxes(sample, crop_width)
    if not (kg > 0).any():
        raise MetricSkipped("face_alignment's SFD detector found no face in any GT frame")

    use = (kp > 0) & (kg > 0)
    if not use.any():
        raise MetricSkipped("no frame where face_alignment's SFD detector found both the generated and the GT face")

    def build():  # FAN only where both sides have a face
        net = _fan_net()
        fp, fg = _sfd_frames(sample, crop_width)
        m = use[:, None]
        return (fan_landmarks(net, fp, np.where(m, bp, np.nan), flip=flip),
                fan_landmarks(net, fg, np.where(m, bg, np.nan), flip=flip))

    a, b = sample.memo(("fan-landmarks-sfd", flip, crop_width), build)
    notes = list(sample.conformed().notes)
    n = len(use)
    if not use.all():
        notes.append(f"{n - int(use.sum())} of {n} frames excluded (SFD found no face: generated "
                     f"{int((kp == 0).sum())}, GT {int((kg == 0).sum())})")
    several = int(((kp > 1) | (kg > 1)).sum())
    if several:
        notes.append(f"{several} of {n} frames with several SFD faces on a side: the highest-scoring one used")
    extra = {"unit": "pixels of the GT frame", "frames_excluded": int((~use).sum()),
             "detection_rate": float((kg > 0).mean()), "pred_detection_rate": float((kp > 0).mean())}
    return a, b, use, notes, extra


def _fan_net():
    from ..nets.fan import load_fan
    from ..weights import locate

    path = locate(FAN_WEIGHTS)
    if _FAN_NETS.get("path") != path:
        _FAN_NETS.update(path=path, net=load_fan(path))
    return _FAN_NETS["net"]


FAN_WEIGHTS = "fan-2d"
SFD_WEIGHTS = "s3fd-fa"  # face_alignment's S3FD (thgeval.face.sfd_boxes)
_FAN_NETS: dict = {}


def _lmd_clip(sample, *, points: str, space: str, center: bool, reduce: str, norm: str,
              landmarks: str = "track", boxes: str = "track") -> ClipValue:
    if landmarks == "fan" and boxes == "sfd":
        # FAN in the boxes face_alignment's own SFD detector finds per frame (the references')
        a, b, use, notes, extra = _fan_sfd_pair(sample)
        d = landmark_distance(a, b, points=MOUTH if points == "mouth" else FACE, center=center,
                              reduce=reduce, norm=norm)
        return ClipValue(float(d[use].mean()), int(use.sum()), series=np.where(use, d, np.nan).astype(np.float32),
                         notes=notes, extra=extra)
    if landmarks == "fan":
        # FAN landmarks in thgeval's detected face boxes (frames where both sides have a face)
        pair = face_pair(sample)
        a, b = _fan_pair(sample, pair)
        use = pair.usable
        d = landmark_distance(a, b, points=MOUTH if points == "mouth" else FACE, center=center,
                              reduce=reduce, norm=norm)
        return ClipValue(float(d[use].mean()), int(use.sum()), series=np.where(use, d, np.nan).astype(np.float32),
                         notes=with_exclusions(pair), extra={"unit": "pixels of the GT frame",
                                                             "frames_excluded": int((~use).sum())})
    if landmarks == "dlib-gray":
        # the reference's own landmark finding on every conformed frame (ATVGnet)
        a, b, use = _per_frame_pair(sample, 1)
        d = landmark_distance(a, b, points=MOUTH if points == "mouth" else FACE, center=center,
                              reduce=reduce, norm=norm)
        n = len(use)
        notes = list(sample.conformed().notes)
        if not use.all():
            notes.append(f"{n - int(use.sum())} of {n} frames excluded (no face detected on a side)")
        return ClipValue(float(d[use].mean()), int(use.sum()), series=np.where(use, d, np.nan).astype(np.float32),
                         notes=notes, extra={"unit": "pixels of the GT frame", "frames_excluded": int(n - use.sum())})
    pair = face_pair(sample)
    if space == "canonical":
        a, b = canonical_landmarks(pair.pred_track), canonical_landmarks(pair.gt_track)
        unit = f"pixels of the canonical {CANONICAL_SIZE}×{CANONICAL_SIZE} face"
    else:
        a, b = pair.pred, pair.gt
        unit = "pixels of the GT frame"
    d = landmark_distance(a, b, points=MOUTH if points == "mouth" else FACE, center=center,
                          reduce=reduce, norm=norm)
    use = pair.usable
    series = np.where(use, d, np.nan)
    return ClipValue(float(d[use].mean()), int(use.sum()), series=series.astype(np.float32),
                     notes=with_exclusions(pair), extra={"unit": unit, "frames_excluded": int((~use).sum())})


def _lmd_variants(points: str) -> dict[str, Variant]:
    base = dict(points=points, center=False, reduce="mean", norm="l2")
    out = {
        "canonical": Variant(
            "canonical", dict(base, space="canonical"),
            reference="thgeval: mean per-point Euclidean distance after each face is mapped by its own smoothed "
                      f"similarity transform onto the canonical {CANONICAL_SIZE}² template (dlib landmarks)",
            aggregation=MEAN_OF_CLIP_MEANS,
            notes="frames where either face was not detected are excluded and counted"),
        "pixels": Variant(
            "pixels", dict(base, space="pixels"),
            reference="F-LMD / M-LMD of many 2022+ papers: mean per-point Euclidean distance in absolute "
                      "pixel coordinates of the GT frame (no canonical code exists; this is the common reading)",
            aggregation=POOLED_FRAMES),
    }
    if points == "mouth":
        out["chen2018"] = Variant(
            "chen2018", dict(base, space="pixels", center=True, reduce="sum", landmarks="dlib-gray"),
            reference="lelechen63/ATVGnet evaluation_matrix.py generating_landmark_lips + compare_landmarks: dlib "
                      "frontal detector (upsample 1) and 68-point predictor on OpenCV grey frames, every frame; "
                      "mouth 48–67, each set minus its centroid, sum over the 20 points of the Euclidean "
                      "distance, pooled over frames",
            aggregation=POOLED_FRAMES,
            notes="landmarks found per frame as the reference does, not from thgeval's face track (which "
                  "moves the value by about 7 % on GRID); frames without a face on either side dropped")
        out["chen2018-paper"] = Variant(
            "chen2018-paper", dict(base, space="pixels", center=True, reduce="mean", landmarks="dlib-gray"),
            reference="Chen et al. 2018/2019 paper formula: as chen2018 but the mean over the 20 points "
                      "(exactly chen2018 / 20); consistent with published LMD values of about 1–3",
            aggregation=POOLED_FRAMES)
        out["vico"] = Variant(
            "vico", dict(base, space="pixels", norm="l1", landmarks="fan", boxes="sfd"),
            reference="dc3ea9f/vico_challenge_baseline evaluations/compute_lmd.py (commit 16424c0): "
                      "face_alignment FaceAlignment(2D, flip_input=True) on every GT and generated frame t "
                      "(zip of the two frame lists): SFD face detection, 2DFAN-4 landmarks of the first "
                      "(highest-scoring) face, mouth 48–67, mean absolute difference per coordinate (L1), "
                      "pooled over all frames of all videos",
            aggregation=POOLED_FRAMES, weights=(FAN_WEIGHTS, SFD_WEIGHTS),
            notes="face_alignment 1.3.x (ViCo's LandmarksType._2D predates 1.3.5's rename): SFD boxes "
                  "(scores > 0.5 after NMS at 0.3) found per frame as the reference does; frames where SFD "
                  "finds no face on either side are dropped and counted (the reference crashes on them: "
                  "get_landmarks returns None); pred on GT's timeline by the run's conform policy (the "
                  "reference zips the frame lists); boxes='track' fits FAN in thgeval's dlib track boxes instead")
    return out


_LMD_SHARED = dict(higher_is_better=False, needs=frozenset({"gt", "face"}), kind=CLIP, version="1",
                   family="face", value_range="≥ 0", unit="px")

# version 2: chen2018 and chen2018-paper find landmarks per frame as ATVGnet does
# version 3: vico fits FAN in face_alignment's own SFD boxes (was thgeval's track boxes)
register(Metric(
    name="lmd_mouth", title="LMD (mouth)", clip_fn=_lmd_clip, variants=_lmd_variants("mouth"),
    default_variant="canonical", aliases=("m_lmd", "m-lmd", "lmd"),
    description="landmark distance of the mouth (points 48–67) between generated and GT frames, Chen et al. 2018",
    **dict(_LMD_SHARED, version="3")))
register(Metric(
    name="lmd_face", title="LMD (face)", clip_fn=_lmd_clip, variants=_lmd_variants("face"),
    default_variant="canonical", aliases=("f_lmd", "f-lmd"),
    description="landmark distance of all 68 points between generated and GT frames", **_LMD_SHARED))


# --- FOMM's keypoint metrics on faces -----------------------------------------------------------

def keypoint_distance(pred: np.ndarray, gt: np.ndarray, *, norm: str = "l2") -> np.ndarray:
    """(T,) mean distance over all 68 landmarks per frame (``l2`` Euclidean per point, ``l1``
    mean absolute difference per coordinate as pose-evaluation computes AKD)."""
    return landmark_distance(pred, gt, points=FACE, norm=norm)


def _akd_clip(sample, *, norm: str, landmarks: str = "track", flip: bool = True,
              crop_width: int | None = None, boxes: str = "track") -> ClipValue:
    if landmarks == "fan" and boxes == "sfd":
        a, b, use, notes, extra = _fan_sfd_pair(sample, flip=flip, crop_width=crop_width)
        d = keypoint_distance(a, b, norm=norm)
        return ClipValue(float(d[use].mean()), int(use.sum()), series=np.where(use, d, np.nan).astype(np.float32),
                         notes=notes, extra=extra)
    pair = face_pair(sample)
    if landmarks == "fan":
        a, b = _fan_pair(sample, pair, flip=flip, crop_width=crop_width)
    else:
        a, b = pair.pred, pair.gt
    d = keypoint_distance(a, b, norm=norm)
    use = pair.usable
    return ClipValue(float(d[use].mean()), int(use.sum()), series=np.where(use, d, np.nan).astype(np.float32),
                     notes=with_exclusions(pair), extra={"unit": "pixels of the GT frame"})


def _mkr_clip(sample) -> ClipValue:
    pair = face_pair(sample, need_both=False)
    gt = pair.gt_detected
    missing = gt & ~pair.pred_detected
    series = np.where(gt, missing, np.nan).astype(np.float32)
    return ClipValue(float(missing.sum() / gt.sum()), int(gt.sum()), series=series,
                     notes=list(pair.notes), extra={"gt_frames_with_face": int(gt.sum()),
                                                    "pred_missing": int(missing.sum())})


register(Metric(
    name="akd", title="AKD", higher_is_better=False, needs=frozenset({"gt", "face"}), kind=CLIP,
    clip_fn=_akd_clip, version="3", family="face", unit="px", value_range="≥ 0",
    # 2: fomm on FAN landmarks; 3: fomm in face_alignment's own SFD boxes (was the track's)
    variants={
        "thgeval": Variant(
            "thgeval", {"norm": "l2"},
            reference="Siarohin et al. 2019 AKD with dlib's 68 landmarks: mean Euclidean distance per landmark "
                      "between GT and generated frames, GT frame pixels, frames without a pred face skipped",
            aggregation=MEAN_OF_CLIP_MEANS),
        "fomm": Variant(
            "fomm", {"norm": "l1", "landmarks": "fan", "flip": False, "crop_width": 256, "boxes": "sfd"},
            reference="AliaksandrSiarohin/pose-evaluation extract.py --type face_pose --image_shape 256,256 + "
                      "cmp_kp.py: face_alignment FaceAlignment(2D, flip_input=False) on every frame cut to its "
                      "first 256 columns: SFD face detection, 2DFAN-4 landmarks of the first (highest-scoring) "
                      "face; per frame the mean absolute difference per coordinate (L1) over the 68 points, "
                      "pooled over frames",
            aggregation=POOLED_FRAMES, weights=(FAN_WEIGHTS, SFD_WEIGHTS),
            notes="SFD boxes found per frame as the reference does (face_alignment 1.3.x arithmetic; the "
                  "submodule pose-evaluation pins, face-alignment v1.0.0, decodes the same boxes in float32 "
                  "and loads s3fd_convert.pth); frames where SFD finds no face on either side are dropped and "
                  "counted (the reference skips frames without a generated face and crashes on a generated "
                  "face without a GT one); pixels of the frame (FOMM's frames are 256×256); boxes='track' "
                  "fits FAN in thgeval's dlib track boxes instead"),
    },
    default_variant="thgeval",
    description="average keypoint distance between generated and GT faces (FOMM)"))
register(Metric(
    name="mkr", title="MKR", higher_is_better=False, needs=frozenset({"gt", "face"}), kind=CLIP,
    clip_fn=_mkr_clip, version="1", family="face", unit="", value_range="[0, 1]",
    variants={"thgeval": Variant(
        "thgeval", {},
        reference="Siarohin et al. 2019 missing keypoint rate, for faces: share of GT frames with a detected "
                  "face whose generated frame has none (dlib's 68 points are found all together or not at all)",
        aggregation=POOLED_FRAMES)},
    default_variant="thgeval",
    description="missing keypoint rate: GT frames with a face where the generated frame has none"))
