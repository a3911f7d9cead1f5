"""Face-aware metrics: LMD, AKD/MKR, CSIM/AED, face-region PSNR/SSIM, blink rate, pose
diversity, landmark jitter — array functions on constructed inputs, then the acceptance checks
of the faces issue through ``evaluate`` on real GRID clips."""

from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest

from thgeval.metrics.face_dynamics import (POSE_MODEL, POSE_POINTS, count_blinks, eye_aspect_ratio, head_pose,
                                           landmark_jitter)
from thgeval.metrics.landmarks import MOUTH, landmark_distance


def _face(seed=0, t=10):
    rng = np.random.default_rng(seed)
    base = rng.uniform(50, 200, (68, 2))
    return base[None].repeat(t, 0) + rng.normal(0, 1.0, (t, 68, 2))


# --- array functions -------------------------------------------------------------------------

def test_landmark_distance_variants():
    a = _face(1)
    assert np.allclose(landmark_distance(a, a), 0)
    b = a + [3.0, 4.0]  # a pure translation
    assert np.allclose(landmark_distance(a, b), 5.0)
    assert np.allclose(landmark_distance(a, b, center=True), 0.0, atol=1e-12)  # ATVGnet removes it
    c = a.copy()
    c[:, MOUTH] += np.random.default_rng(2).normal(0, 2, (10, 20, 2))
    summed = landmark_distance(a, c, center=True, reduce="sum")
    assert np.array_equal(landmark_distance(a, c, center=True, reduce="mean"), summed / 20)
    d = a - c
    l1 = np.abs(d[:, MOUTH]).mean(axis=(1, 2))
    assert np.allclose(landmark_distance(a, c, norm="l1"), l1)
    assert np.isnan(landmark_distance(a, np.full_like(a, np.nan))).all()


def test_blinks_counted_from_eye_aspect_ratio():
    fps = 25.0
    ear = np.full(250, 0.3)
    ear[40:44] = 0.1   # a 160 ms blink
    ear[100:103] = 0.12  # another
    ear[103] = 0.22      # not yet reopened: still the same blink
    ear[104] = 0.15
    ear[150] = 0.1     # one frame (40 ms): below the 60 ms minimum, not a blink
    ear[200:240] = 0.1  # 1.6 s: eyes closed, not a blink
    n, closed = count_blinks(ear, np.ones(250, bool), fps)
    assert n == 2 and closed[41] and closed[103] and not closed[0] and not closed[150]
    ok = np.ones(250, bool)
    ok[44] = False  # a run touching a frame without a face is not counted
    assert count_blinks(ear, ok, fps)[0] == 1
    # the threshold follows the person's open-eye level
    assert count_blinks(ear * 0.6, np.ones(250, bool), fps)[0] == 2


def test_eye_aspect_ratio_of_an_open_and_a_closed_eye():
    lm = np.zeros((2, 68, 2))
    for eye, x0 in (((36, 37, 38, 39, 40, 41), 0.0), ((42, 43, 44, 45, 46, 47), 50.0)):
        p1, p2, p3, p4, p5, p6 = eye
        lm[:, p1] = (x0, 0)
        lm[:, p4] = (x0 + 30, 0)
        for t, h in ((0, 9.0), (1, 0.0)):
            lm[t, p2] = (x0 + 10, -h / 2)
            lm[t, p3] = (x0 + 20, -h / 2)
            lm[t, p6] = (x0 + 10, h / 2)
            lm[t, p5] = (x0 + 20, h / 2)
    assert np.allclose(eye_aspect_ratio(lm), [0.3, 0.0])


def _project(yaw, pitch, roll, size=(640, 480), z=1500.0):
    """The 6 model points rotated (R = Rz(roll)·Ry(−yaw)·Rx(pitch)), projected with the metric's camera."""
    ry, rp, rr = map(math.radians, (-yaw, pitch, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(rp), -math.sin(rp)], [0, math.sin(rp), math.cos(rp)]])
    ryy = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rz = np.array([[math.cos(rr), -math.sin(rr), 0], [math.sin(rr), math.cos(rr), 0], [0, 0, 1]])
    w, h = size
    cam = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1.0]])
    pts, _ = cv2.projectPoints(POSE_MODEL, cv2.Rodrigues(rz @ ryy @ rx)[0], np.array([0, 0, z]), cam, None)
    lm = np.full((68, 2), 0.0)
    lm[list(POSE_POINTS)] = pts[:, 0]
    return lm


@pytest.mark.parametrize("angles", [(0, 0, 0), (20, 0, 0), (0, 15, 0), (0, 0, -10), (-25, 10, 5)])
def test_head_pose_recovers_known_rotations(angles):
    got = head_pose(_project(*angles)[None], (640, 480))[0]
    assert np.allclose(got, angles, atol=0.5), (got, angles)


def test_head_pose_signs():
    # relative to the eyes, the nose tip (in front of them) moves right in the image when the
    # face turns to the image's right (yaw > 0), down when looking down (pitch > 0); roll > 0
    # turns the face clockwise on screen
    def nose(lm):
        return lm[30] - lm[[36, 45]].mean(0)

    assert nose(_project(20, 0, 0))[0] > nose(_project(0, 0, 0))[0] + 10
    assert nose(_project(0, 15, 0))[1] > nose(_project(0, 0, 0))[1] + 10
    r = _project(0, 0, 10)
    assert r[45, 1] > r[36, 1]  # image-right eye corner lower: clockwise


def test_jitter_ignores_smooth_motion_and_sees_trembling():
    t = np.arange(30)[:, None, None]
    base = _face(3, 1)
    steady = base + t * [2.0, 1.0] + 0.05 * t ** 2  # constant velocity and acceleration
    ok = np.ones(30, bool)
    smooth = landmark_jitter(steady - 0.05 * t ** 2, ok)
    assert np.nanmax(smooth) < 1e-9 and np.isnan(smooth[[0, -1]]).all()
    noisy = steady + np.random.default_rng(4).normal(0, 1.0, steady.shape)
    assert np.nanmean(landmark_jitter(noisy, ok)) > 10 * np.nanmean(landmark_jitter(steady, ok))
    ok[10] = False
    j = landmark_jitter(noisy, ok)
    assert np.isnan(j[9:12]).all() and np.isfinite(j[12])


# --- acceptance on real GRID clips through the run --------------------------------------------

FACE_METRICS = ("lmd_mouth,lmd_mouth@chen2018,lmd_mouth@chen2018-paper,lmd_face,akd,akd@fomm,mkr,csim,aed,"
                "psnr_face,ssim_face,blink_rate,pose_diversity,landmark_jitter")


@pytest.fixture(scope="module")
def face_run(media, tmp_path_factory):
    from thgeval.io import load_clip, write_clip
    from thgeval.run import evaluate

    root = tmp_path_factory.mktemp("facemetrics")
    src, other = media / "grid" / "bbaf2n.mpg", media / "grid" / "lbax4n.mpg"
    for d in ("gt", "self", "delayed", "other", "noface"):
        (root / d).mkdir()
    os.symlink(src, root / "gt" / "a.mpg")
    os.symlink(src, root / "self" / "a.mpg")
    os.symlink(other, root / "other" / "a.mpg")
    clip = load_clip(src)
    delayed = np.concatenate([clip.frames[:1], clip.frames[:1], clip.frames[:-2]])
    write_clip(root / "delayed" / "a.mp4", delayed, clip.fps, audio=clip.audio, lossless=True)
    grey = np.full_like(clip.frames, 128)
    write_clip(root / "noface" / "a.mp4", grey, clip.fps, lossless=True)
    res = evaluate(root / "gt", {m: root / m for m in ("self", "delayed", "other", "noface")},
                   metrics=FACE_METRICS, out=root / "out", cache_dir=root / "cache", workers=1)
    return {(r.method, r.metric_key): r for r in res.rows}


def _v(rows, method, key):
    r = rows[(method, key)]
    assert r.status == "ok", (method, key, r.status, r.reason)
    return r.value


@pytest.mark.media
def test_lmd_self_zero_delayed_positive_other_speaker_larger(face_run):
    for key in ("lmd_mouth@canonical", "lmd_face@canonical", "lmd_mouth@chen2018", "akd@thgeval"):
        assert _v(face_run, "self", key) == 0.0, key
        assert 0 < _v(face_run, "delayed", key) < _v(face_run, "other", key), key
    paper, code = _v(face_run, "delayed", "lmd_mouth@chen2018-paper"), _v(face_run, "delayed", "lmd_mouth@chen2018")
    assert paper == pytest.approx(code / 20, rel=1e-12)
    assert face_run[("delayed", "lmd_mouth@canonical")].n_frames >= 74


@pytest.mark.media
def test_identity_self_above_other_speaker(face_run):
    assert _v(face_run, "self", "csim@dlib") > _v(face_run, "other", "csim@dlib") + 0.05
    assert _v(face_run, "self", "aed@dlib") == 0.0
    assert _v(face_run, "delayed", "aed@dlib") < _v(face_run, "other", "aed@dlib")
    assert "frame 0" in face_run[("self", "csim@dlib")].notes or "frame" in face_run[("self", "csim@dlib")].notes
    real = _v(face_run, "real", "csim@dlib")  # GT frames against the clip's own first face
    assert real == pytest.approx(_v(face_run, "self", "csim@dlib"), abs=1e-6)


@pytest.mark.media
def test_face_region_fidelity(face_run):
    assert _v(face_run, "self", "psnr_face@aligned256") == math.inf
    assert _v(face_run, "self", "ssim_face@aligned256") == pytest.approx(1.0, abs=1e-6)
    assert _v(face_run, "delayed", "ssim_face@aligned256") > _v(face_run, "other", "ssim_face@aligned256")


@pytest.mark.media
def test_no_reference_face_metrics_have_real_rows(face_run):
    for key in ("blink_rate@ear", "pose_diversity@solvepnp6", "landmark_jitter@accel"):
        real = _v(face_run, "real", key)
        assert real == pytest.approx(_v(face_run, "self", key)), key
        assert math.isfinite(real) and real >= 0
    assert _v(face_run, "real", "landmark_jitter@accel") > 0  # dlib's landmark noise on real video


@pytest.mark.media
def test_a_clip_without_a_face_is_skipped_or_counted(face_run):
    for key in ("lmd_mouth@canonical", "akd@thgeval", "aed@dlib", "csim@dlib", "blink_rate@ear",
                "pose_diversity@solvepnp6", "landmark_jitter@accel"):
        r = face_run[("noface", key)]
        assert r.status == "skipped" and "face" in r.reason, (key, r.status, r.reason)
    assert _v(face_run, "noface", "mkr@thgeval") == 1.0  # every GT face is missing
    assert _v(face_run, "self", "mkr@thgeval") == 0.0


@pytest.mark.media
def test_csim_with_reference_images(media, tmp_path):
    """``--ref``: a source image per clip; its own frame scores above another person's photo,
    and an image without a face gives a skipped row with the reason."""
    from thgeval.io import load_clip
    from thgeval.run import evaluate

    src = media / "grid" / "bbaf2n.mpg"
    for d in ("gt", "m", "ref"):
        (tmp_path / d).mkdir()
    for name in ("own", "other", "blank"):
        os.symlink(src, tmp_path / "gt" / f"{name}.mpg")
        os.symlink(src, tmp_path / "m" / f"{name}.mpg")
    frame = load_clip(src).frames[10]
    cv2.imwrite(str(tmp_path / "ref" / "own.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    os.symlink(media / "stills" / "biden.jpg", tmp_path / "ref" / "other.jpg")
    cv2.imwrite(str(tmp_path / "ref" / "blank.png"), np.full((200, 200, 3), 90, np.uint8))
    res = evaluate(tmp_path / "gt", {"m": tmp_path / "m"}, metrics="csim", out=tmp_path / "out",
                   references=tmp_path / "ref", cache_dir=tmp_path / "cache", workers=1)
    rows = {(r.method, r.clip): r for r in res.rows}
    own, other = rows[("m", "own")], rows[("m", "other")]
    assert own.status == other.status == "ok"
    assert own.value > other.value + 0.1 and "own.png" in own.notes
    blank = rows[("m", "blank")]
    assert blank.status == "skipped" and "no face found in the reference image blank.png" in blank.reason
