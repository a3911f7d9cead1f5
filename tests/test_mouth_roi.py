"""Mouth-ROI pipelines: golden parity with the reference code, unit checks, and the acceptance
check on every GRID and VoxCeleb2 clip of ../shared/media.

Golden values (run outside the project on 2026-11-25 with OpenCV 5.0.0.93 — pinned in the dev
extra: OpenCV 5.1's warpAffine rounds differently, and so would the reference —, numpy and
scikit-image of the dev extra), both on ``synthetic_case()`` below with its face as the mean face:

- Auto-AVSR: mpc001/auto_avsr commit 182b62837773ab01052d4ac21ef1d2203ea7d267,
  ``preparation/detectors/retinaface/video_process.py``:
  ``VideoProcess(mean_face_path=FACE_NPY, convert_gray=True)(frames, landmarks_with_None)``.
  Tolerance reached: bit-identical (sha256 of the 20×96×96 patches).
- AV-HuBERT: facebookresearch/av_hubert commit 258fb50e155134eec2c4b49c2ae8de267075fd18,
  ``avhubert/preparation/align_mouth.py``: its ``landmarks_interpolate``, ``warp_img``,
  ``apply_transform`` and ``cut_patch`` driven by ``crop_patch``'s loop over the frames (as BGR)
  instead of a file, then ``cv2.cvtColor(…, COLOR_BGR2GRAY)`` as its loader does. Tolerance
  reached: 4 of 184,320 pixels differ by one grey level (OpenCV's bilinear vs scikit-image's);
  per-frame sums within ±1.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from _landmarks_util import dlib_landmarks, have_dlib

from thgeval.errors import MetricSkipped
from thgeval.nets.mouth_roi import (AUTO_AVSR, AV_HUBERT, interpolate_landmarks, lipnet_crop, mouth_rois,
                                    normalise_rois, resample_to, smooth_centred, umeyama_similarity,
                                    estimate_similarity)

SEED = 424242
AUTO_AVSR_SHA = "c27dbf92849930c10ce78d1c5d0f9f492ddcce7f192d1503202e403bd073f548"
AV_HUBERT_SUMS = [1172169, 1172464, 1169628, 1169720, 1169994, 1169083, 1168963, 1169489, 1167896, 1169847,
                  1170147, 1171947, 1171583, 1172514, 1172372, 1171912, 1171655, 1171049, 1168520, 1168922]


def synthetic_case():
    """A 68-point face in the 256 canvas, 20 textured frames, landmarks under a random
    similarity per frame with noise, four frames without a face."""
    rng = np.random.default_rng(SEED)
    face = np.empty((68, 2))
    face[:, 0] = np.linspace(70, 190, 68) + rng.normal(0, 4, 68)
    face[:, 1] = 90 + 60 * np.sin(np.linspace(0, 3, 68)) + rng.normal(0, 4, 68)
    face[36:48] = [[90 + 6 * i, 95 + rng.normal(0, 2)] for i in range(6)] + [[140 + 6 * i, 95 + rng.normal(0, 2)] for i in range(6)]
    face[27:36] = [[128 + rng.normal(0, 2), 100 + 5 * i] for i in range(9)]
    face[48:68] = np.c_[128 + 22 * np.cos(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
                        160 + 9 * np.sin(np.linspace(0, 2 * np.pi, 20, endpoint=False))]
    T, H, W = 20, 180, 220
    yy, xx = np.mgrid[0:H, 0:W]
    frames, lms = [], []
    for t in range(T):
        img = np.stack([(128 + 100 * np.sin(xx / (7 + c) + t / 3.0) * np.cos(yy / (9 + c))) for c in range(3)], -1)
        frames.append(np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8))
        ang = np.deg2rad(rng.uniform(-6, 6)); sc = 0.62 + rng.uniform(-0.03, 0.03)
        R = sc * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        lm = (face - 128) @ R.T + [110 + t * 0.7, 85 + rng.uniform(-2, 2)] + rng.normal(0, 0.6, (68, 2))
        lms.append(None if t in (3, 4, 11, 19) else lm)
    landmarks = np.stack([np.full((68, 2), np.nan) if lm is None else lm for lm in lms])
    return face, np.stack(frames), landmarks


def test_golden_auto_avsr():
    face, frames, landmarks = synthetic_case()
    r = mouth_rois(frames, landmarks, None, face, AUTO_AVSR)
    assert r.rois.shape == (20, 96, 96) and r.rois.dtype == np.uint8 and not r.clipped.any()
    assert hashlib.sha256(np.ascontiguousarray(r.rois).tobytes()).hexdigest() == AUTO_AVSR_SHA
    assert r.interpolated.tolist() == [t in (3, 4, 11, 19) for t in range(20)]


def test_golden_av_hubert():
    face, frames, landmarks = synthetic_case()
    r = mouth_rois(frames, landmarks, None, face, AV_HUBERT)
    sums = [int(f.astype(np.int64).sum()) for f in r.rois]
    assert max(abs(a - b) for a, b in zip(sums, AV_HUBERT_SUMS)) <= 1


def test_interpolation_and_smoothing():
    lm = np.zeros((6, 68, 2))
    lm[:, :, 0] = np.arange(6)[:, None] * 10.0
    lm[[0, 2, 3, 5]] = np.nan
    filled, interp = interpolate_landmarks(lm)
    assert filled[:, 0, 0].tolist() == [10, 10, 20, 30, 40, 40]  # edges held, gaps linear
    assert interp.tolist() == [True, False, True, True, False, True]
    valid = np.array([True, True, True, False, True, True])
    lm2 = np.random.default_rng(0).normal(size=(6, 68, 2))
    filled2, _ = interpolate_landmarks(lm2, valid)
    np.testing.assert_allclose(filled2[3], (lm2[2] + lm2[4]) / 2)
    with pytest.raises(MetricSkipped, match="no face"):
        interpolate_landmarks(np.full((3, 68, 2), np.nan))
    # smoothing: window shrinks at the ends; the centroid stays the frame's own
    x = np.random.default_rng(1).normal(size=(30, 68, 2))
    s = smooth_centred(x, 12)
    np.testing.assert_allclose(s[0], x[0])
    np.testing.assert_allclose(s.mean(axis=1), x.mean(axis=1), atol=1e-12)
    w = x[9:22].mean(axis=0)
    np.testing.assert_allclose(s[15], w + x[15].mean(0) - w.mean(0))


def test_similarity_estimators():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 200, (8, 2))
    a, sc = 0.3, 1.7
    m = np.array([[sc * np.cos(a), -sc * np.sin(a), 12.0], [sc * np.sin(a), sc * np.cos(a), -5.0]])
    dst = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(umeyama_similarity(src, dst), m, atol=1e-9)
    np.testing.assert_allclose(estimate_similarity(src, dst, "lmeds"), m, atol=1e-4)  # OpenCV refines in float


def test_normalisation_and_resampling():
    rois = np.full((2, 96, 96), 255, np.uint8)
    rois[:, 4:92, 4:92] = 0
    x = normalise_rois(rois)
    assert x.shape == (2, 88, 88) and x.dtype == np.float32
    np.testing.assert_allclose(x, (0 - 0.421) / 0.165, rtol=1e-6)  # the centre 88×88 exactly
    assert resample_to(25.0, 10).tolist() == list(range(10))
    assert resample_to(50.0, 10).tolist() == [0, 2, 4, 6, 8]
    assert len(resample_to(30000 / 1001, 300)) == 250


# --- acceptance on the real clips ----------------------------------------------------------
@pytest.fixture(scope="module")
def real_clips(media):
    if not have_dlib():
        pytest.skip("dlib and face_recognition_models (the 68-point model) not installed")
    from thgeval.io import load_clip

    clips = {}
    for folder, pattern in (("grid", "*.mpg"), ("voxceleb2", "*.mp4")):
        for p in sorted((media / folder).glob(pattern)):
            c = load_clip(p, audio=False)
            clips[f"{folder}/{p.stem}"] = (c.frames, dlib_landmarks(c.frames), c.fps)
    return clips


def synthetic_mean_face(clips) -> np.ndarray:
    """A mean face of our own (not the published asset): the clips' first-frame shapes,
    similarity-aligned to one another and averaged, placed in the 256 canvas with the eyes
    64 px apart around (128, 96)."""
    shapes = [lm[np.isfinite(lm).all(axis=(1, 2))][0] for _, lm, _ in clips.values()]
    ref = shapes[0]
    aligned = [s @ umeyama_similarity(s, ref)[:, :2].T + umeyama_similarity(s, ref)[:, 2] for s in shapes]
    mean = np.mean(aligned, axis=0)
    le, re_ = mean[36:42].mean(0), mean[42:48].mean(0)
    d = re_ - le
    a, sc = -np.arctan2(d[1], d[0]), 64.0 / np.hypot(*d)
    r = sc * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (mean - (le + re_) / 2) @ r.T + (128.0, 96.0)


@pytest.mark.media
@pytest.mark.slow
@pytest.mark.parametrize("pipeline", [AUTO_AVSR, AV_HUBERT], ids=lambda s: s.name)
def test_every_real_clip_gives_mouth_centred_88_crops(real_clips, pipeline):
    face = synthetic_mean_face(real_clips)
    assert len(real_clips) == 25
    for name, (frames, lm, fps) in real_clips.items():
        assert fps == 25.0
        valid = np.isfinite(lm).all(axis=(1, 2))
        assert valid.mean() > 0.9, name
        r = mouth_rois(frames, lm, valid, face, pipeline)
        x = normalise_rois(r.rois)
        assert x.shape == (len(frames), 88, 88), name
        assert not r.clipped.any(), name
        mouth = r.mouth[valid] - 4.0  # centre 88 of the 96 patch
        assert mouth.min() >= 0 and mouth.max() < 88, f"{name}: mouth outside the crop"
        centre = mouth.mean(axis=1)
        assert np.abs(centre - 44).max() < 10, f"{name}: crop not centred on the mouth"


@pytest.mark.media
@pytest.mark.slow
def test_lipnet_crop_on_real_clips(real_clips):
    for name, (frames, lm, _) in real_clips.items():
        valid = np.isfinite(lm).all(axis=(1, 2))
        crop, mouth = lipnet_crop(frames, lm, valid)
        assert crop.shape == (len(frames), 50, 100, 3), name
        m = mouth[valid]
        # centred on the mouth centroid, the mouth corners inside; an open mouth may exceed the
        # 50 px height (the zoom is fixed by the first frame, as in the reference)
        np.testing.assert_allclose(m.mean(axis=1), [[50, 25]] * len(m), atol=1.0)
        corners = m[:, [0, 6]]
        assert corners[..., 0].min() >= 0 and corners[..., 0].max() < 100, name
        assert corners[..., 1].min() >= 0 and corners[..., 1].max() < 50, name


def test_reader_input_uses_the_mean_face_asset(tmp_path, monkeypatch):
    from thgeval.nets.mouth_roi import reader_input

    face, frames, landmarks = synthetic_case()
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    with pytest.raises(MetricSkipped, match="thgeval weights fetch mean-face-20words"):
        reader_input(frames, landmarks)
    np.save(tmp_path / "20words_mean_face.npy", face)  # a synthetic stand-in for the asset
    x = reader_input(frames, landmarks)
    assert x.shape == (20, 88, 88) and x.dtype == np.float32
    np.testing.assert_allclose(x, normalise_rois(mouth_rois(frames, landmarks, None, face).rois))
