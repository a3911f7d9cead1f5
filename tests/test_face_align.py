"""Face alignment: transforms, smoothing, warping, aligned clips and ``thgeval align``.

Acceptance figures (``tests/test_face_media.py::test_aligned_clips_put_landmarks_on_the
_template``, measured 2026-11-25 by detecting the landmarks again in the written 256×256
clips): GRID clips (frontal) 2.0–2.8 px mean distance of the five template points, at
most 4.6 px for any frame's mean and 7.6 px for any point; VoxCeleb2 clips 5–11 px mean,
the rest being out-of-plane head rotation that no similarity transform removes.
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.cli import main
from thgeval.demo import portrait_clip
from thgeval.face import (
    TEMPLATES, FaceTrack, NoFaceError, align_clip, analyze_clip, analyze_frames, box_transforms,
    similarity_transforms, transform_points, transforms_for, umeyama, warp_frames,
)
from thgeval.io import load_clip, write_clip

FACE = TEMPLATES["face"]


def _sim(scale, angle, tx, ty):
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    return np.array([[c, -s, tx], [s, c, ty]])


def _track_from(landmarks: np.ndarray, valid=None) -> FaceTrack:
    t = len(landmarks)
    valid = np.ones(t, bool) if valid is None else valid
    lo, hi = landmarks.min(1), landmarks.max(1)
    boxes = np.concatenate([lo, hi], 1)
    lm = np.where(valid[:, None, None], landmarks, np.nan)
    return FaceTrack(np.where(valid[:, None], boxes, np.nan), lm, valid, np.zeros(t, bool),
                     np.ones(t), valid.astype(int), (640, 480), 25.0)


def _synthetic_landmarks(mats):
    """68 landmarks whose five template groups sit exactly on the template mapped by ``mats``
    (each group's points equal to its template point: their mean is the point)."""
    base = np.zeros((68, 2))
    for g, p in zip(FACE.groups, FACE.points * 256):
        base[list(g)] = p
    rest = [i for i in range(68) if not any(i in g for g in FACE.groups)]
    base[rest] = FACE.points.mean(0) * 256
    return np.stack([base @ m[:, :2].T + m[:, 2] for m in mats])


def test_umeyama_recovers_a_similarity():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (7, 2))
    m = _sim(1.7, 0.3, 12.0, -5.0)
    np.testing.assert_allclose(umeyama(src, src @ m[:, :2].T + m[:, 2]), m, atol=1e-9)


def test_similarity_transforms_map_landmarks_onto_the_template():
    # each frame: the template put into the native frame by a different similarity
    mats = [np.linalg.inv(np.vstack([_sim(0.5 + 0.01 * t, 0.02 * t, 30 + t, 40), [0, 0, 1]]))[:2] for t in range(10)]
    track = _track_from(_synthetic_landmarks(mats))
    m = similarity_transforms(track, 256, smooth=0)
    pts = FACE.from_landmarks(transform_points(track.landmarks, m))
    np.testing.assert_allclose(pts, np.broadcast_to(FACE.points * 256, pts.shape), atol=1e-6)
    # a transform that changes smoothly over time stays on the template after smoothing too
    m2 = similarity_transforms(track, 256, smooth=2)
    pts2 = FACE.from_landmarks(transform_points(track.landmarks, m2))
    assert np.abs(pts2 - FACE.points * 256).max() < 0.5


def test_smoothing_removes_landmark_jitter():
    rng = np.random.default_rng(1)
    mats = [np.linalg.inv(np.vstack([_sim(0.5, 0.0, 30, 40), [0, 0, 1]]))[:2]] * 40
    lm = _synthetic_landmarks(mats) + rng.normal(0, 1.0, (40, 68, 2))
    track = _track_from(lm)
    jitter = {s: np.abs(np.diff(similarity_transforms(track, 256, smooth=s)[:, :, 2], axis=0)).mean() for s in (0, 2)}
    assert jitter[2] < 0.4 * jitter[0]


def test_frames_without_a_face_take_neighbouring_transforms():
    mats = [np.linalg.inv(np.vstack([_sim(0.5, 0.0, 30 + 2 * t, 40), [0, 0, 1]]))[:2] for t in range(9)]
    lm = _synthetic_landmarks(mats)
    valid = np.ones(9, bool)
    valid[[0, 4, 8]] = False
    m = similarity_transforms(_track_from(lm, valid), 256, smooth=0)
    assert np.isfinite(m).all()
    np.testing.assert_allclose(m[0], m[1])  # held at the ends
    np.testing.assert_allclose(m[4], (m[3] + m[5]) / 2, atol=1e-9)  # interpolated inside
    empty = _track_from(lm, np.zeros(9, bool))
    with pytest.raises(NoFaceError):
        similarity_transforms(empty)
    with pytest.raises(NoFaceError):
        box_transforms(empty)


def test_box_transform_geometry():
    boxes = np.tile([100.0, 50.0, 200.0, 150.0], (5, 1))  # half-side s = 50, centre (150, 100)
    t = FaceTrack(boxes, np.zeros((5, 68, 2)), np.ones(5, bool), np.zeros(5, bool), np.ones(5),
                  np.ones(5, int), (320, 240))
    m = box_transforms(t, size=224, scale=0.4)
    # the square of half-side s·1.4 centred s·0.4 below the box centre fills the crop
    corners = transform_points(np.tile([[150 - 70, 120 - 70], [150 + 70, 120 + 70]], (5, 1, 1)), m)
    np.testing.assert_allclose(corners[0], [[0, 0], [224, 224]], atol=1e-9)


def test_warp_frames_puts_points_where_the_transform_says():
    frame = np.zeros((1000, 1600, 3), np.uint8)
    frame[598:603, 798:803] = 255  # a dot at (800, 600)
    for scale in (0.2, 1.5):  # 0.2: the frame is first shrunk by area averaging
        m = _sim(scale, 0.1, 0, 0)
        m[:, 2] = np.array([64, 64]) - m[:, :2] @ [800, 600]
        out = warp_frames(frame[None], m[None], 128)[0]
        w = out[..., 0].astype(float)
        yy, xx = np.mgrid[:128, :128]
        x, y = (w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()  # the dot's centroid
        assert abs(x - 64) < 0.6 and abs(y - 64) < 0.6
    assert warp_frames(frame[None, ..., 0], m[None], 32).shape == (1, 32, 32, 3)
    nan = np.full((1, 2, 3), np.nan)
    assert not warp_frames(frame[None], nan, 16).any()  # a frame not to use: black


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    gt = portrait_clip(16)
    pred = np.roll(gt, 12, axis=2)  # the same face 12 px to the right: its own alignment differs
    tone = 0.3 * np.sin(2 * np.pi * 300 * np.arange(16 * 640) / 16000).astype(np.float32)
    return (write_clip(d / "gt.mp4", gt, 25, audio=tone), write_clip(d / "pred.mp4", pred, 25, audio=tone), d)


def test_gt_pred_pair_shares_gt_transform(pair, tmp_path):
    gt_path, pred_path, _ = pair
    r = align_clip(pred_path, tmp_path / "p.mp4", gt=gt_path, gt_out=tmp_path / "g.mp4", size=128, cache_dir=tmp_path)
    assert r.frames == 16 and r.valid_frames == 16 and r.residual_px < 5
    gt_frames = load_clip(gt_path, audio=False).frames
    pred_frames = load_clip(pred_path, audio=False).frames
    m = transforms_for(analyze_clip(gt_path, frames=gt_frames, cache_dir=tmp_path), "similarity", 128)
    own = transforms_for(analyze_clip(pred_path, frames=pred_frames, cache_dir=tmp_path), "similarity", 128)
    out = load_clip(tmp_path / "p.mp4")
    err_gt = np.abs(out.frames.astype(int) - warp_frames(pred_frames, m, 128)).mean()
    err_own = np.abs(out.frames.astype(int) - warp_frames(pred_frames, own, 128)).mean()
    # H.264 at crf 18 alone leaves ≈ 4.7 grey levels of mean error on these crops
    assert err_gt < 6 and err_own > 4 * err_gt
    assert out.audio is not None and abs(len(out.audio) / 16000 - 16 / 25) < 0.1  # audio kept
    g = load_clip(tmp_path / "g.mp4", audio=False).frames
    assert np.abs(g.astype(int) - warp_frames(gt_frames, m, 128)).mean() < 6


def test_cli_align(pair, tmp_path, capsys):
    gt_path, pred_path, d = pair
    noface = write_clip(tmp_path / "noface.mp4", np.full((5, 64, 64, 3), 90, np.uint8), 25)
    out = tmp_path / "out"
    rc = main(["align", str(pred_path), str(noface), "-o", str(out), "--mode", "box", "--size", "96", "--workers", "1"])
    text = capsys.readouterr()
    assert rc == 1 and "no frame with a valid face" in text.err
    assert load_clip(out / "pred.mp4", audio=False).frames.shape == (16, 96, 96, 3)
    rc = main(["align", str(pred_path), "-o", str(out), "--gt", str(gt_path), "--workers", "1"])
    assert rc == 0 and (out / "gt" / "gt.mp4").is_file()
    assert "16/16 frames with a face" in capsys.readouterr().out
