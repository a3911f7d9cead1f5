"""fvd@latentsync against golden numbers from bytedance/LatentSync's own eval code.

Provenance (golden numbers below, computed 2026-12-06 outside thgeval in /tmp/golden-fvdls):

- repo: bytedance/LatentSync @ a229c3948406bc2cf6eaf4873e662e70c6a04746, files
  ``eval/eval_fvd.py`` (``FVD.detect_video`` → ``detect_face`` → ``cv2.resize(…, INTER_AREA)``,
  ``detect_videos``' ``torch.stack(…) / 255.0``) and ``eval/fvd.py`` (``compute_our_fvd``'s
  ``permute(0, 4, 1, 2, 3)``, ``compute_fvd``: ``np.cov`` + ``scipy.linalg.sqrtm``), copied
  unchanged.
- adaptations: ``mediapipe`` replaced by a stub of the legacy
  ``mp.solutions.face_detection.FaceDetection`` whose ``process`` returns the relative boxes
  ``BOXES`` below in turn (MediaPipe 1.2.3 has no ``solutions`` API and the BlazeFace model
  cannot be downloaded here: the detector itself is not covered); ``decord.VideoReader``
  replaced by a stub over ``thgeval.load_clip(path).frames`` (``vr[20:36]``); the boxes include
  one sticking out on the left, one past the right edge and one past the bottom, to pin
  ``detect_face``'s clamping; ``check_model_and_download`` stubbed (only ``compute_fvd`` runs).
- command: ``PYTHONPATH=src python /tmp/golden-fvdls/golden.py`` (torch 2.14.1, scipy 1.17.1,
  opencv-python-headless 5.0.0.93, NumPy 2.4.6, CPU).

Tolerances: the preprocessed tensor exactly (0 absolute on sampled values, the uint8 crops'
sha256; the same cv2 INTER_AREA and float32 division); Fréchet distances 1e-6 relative
(scipy's sqrtm against thgeval's symmetric eigen-solver; measured ~1e-7 for 12 rows). LatentSync's
compute_fvd printed the same two values as cmvq's and DisCo's, so the test of thgeval's Fréchet
distance against them lives once, in test_fvd_variants.py (FD_GOLDEN).
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from _fvd_util import FloatClipDetector, same_and_other  # noqa: E402

from thgeval.errors import MetricSkipped  # noqa: E402
from thgeval.nets.i3d import I3D, latentsync_box, latentsync_inputs, random_state_dict  # noqa: E402

BOXES = {  # relative (xmin, ymin, width, height) per frame 20…35, as the stub detector returned them
    "grid/bbaf2n.mpg": [(0.35 + 0.005 * j, 0.2 + 0.003 * j, 0.3, 0.42) for j in range(16)],
    "voxceleb2/00002.mp4": [(0.2 - 0.002 * j, 0.15 + 0.001 * j, 0.6, 0.7) for j in range(16)],
}
BOXES["grid/bbaf2n.mpg"][3] = (-0.05, 0.2, 0.3, 0.42)
BOXES["grid/bbaf2n.mpg"][7] = (0.8, 0.25, 0.3, 0.42)
BOXES["grid/bbaf2n.mpg"][11] = (0.4, 0.75, 0.3, 0.4)
IDX = [305711, 1484405, 2215104, 963395, 2249467, 2219731, 1659157, 374564]  # RandomState(0) draws
GOLDEN = {  # clip: (sum of the 1×3×16×224×224 tensor, values at IDX, sha256 of the 16×224×224×3 uint8 crops)
    "grid/bbaf2n.mpg": (1106498.3566869297,
                        [0.1921568661928177, 0.615686297416687, 0.7490196228027344, 0.7411764860153198,
                         0.3490196168422699, 0.20000000298023224, 0.7647058963775635, 0.16470588743686676],
                        "27a877e4f1025a43633ceac7aa5cbdad10666e895068c49c7336433fd0082ec0"),
    "voxceleb2/00002.mp4": (888090.1961389603,
                            [0.21176470816135406, 0.545098066329956, 0.3686274588108063, 0.11764705926179886,
                             0.003921568859368563, 0.48235294222831726, 0.12156862765550613,
                             0.16470588743686676],
                            "0ea3454070c9cd4375dad896f93c9a8cd1c682f57cf13dfd9cbda8e6b2e7af97"),
}


def _frames(media, name):
    from thgeval.io import load_clip

    return load_clip(media / name).frames


@pytest.mark.media
@pytest.mark.parametrize("clip", sorted(GOLDEN))
def test_latentsync_preprocessing_equals_golden(media, clip):
    frames = _frames(media, clip)[20:36]
    h, w = frames.shape[1:3]
    boxes = np.array([latentsync_box(r, w, h) for r in BOXES[clip]])
    got = latentsync_inputs(frames[None], boxes[None])
    assert got.shape == (1, 3, 16, 224, 224) and got.dtype == torch.float32
    total, vals, digest = GOLDEN[clip]
    flat = got.numpy().astype(np.float64).ravel()
    np.testing.assert_allclose(flat[IDX], vals, rtol=0, atol=0)
    assert flat.sum() == pytest.approx(total, rel=1e-12)
    crops = np.rint(got[0].permute(1, 2, 3, 0).numpy() * 255).astype(np.uint8)
    assert hashlib.sha256(crops.tobytes()).hexdigest() == digest
    assert 0.0 <= float(got.min()) and float(got.max()) <= 1.0  # left in [0, 1]


def test_latentsync_box_truncates_like_int():
    assert latentsync_box((-0.05, 0.2, 0.3, 0.42), 360, 288) == (-18, 57, 108, 120)
    assert latentsync_box((0.999, 0.001, 0.5, 0.5), 100, 100) == (99, 0, 50, 50)


def test_skipped_without_mediapipe(monkeypatch):
    from thgeval.face.mediapipe_boxes import mediapipe_face_boxes

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe → ImportError
    with pytest.raises(MetricSkipped, match="mediapipe is not installed"):
        mediapipe_face_boxes(np.zeros((1, 8, 8, 3), np.uint8), "unused.tflite")


@pytest.mark.media
def test_latentsync_end_to_end(media, tmp_path, monkeypatch):
    """The variant's record drives the shared FVD path: frames 20–35, a box per frame (a
    stand-in for MediaPipe: the centre of the frame), [0, 1] into the TorchScript detector."""
    from thgeval.face import mediapipe_boxes
    from thgeval.run import evaluate
    from thgeval.run.store import SET_CLIP

    seen = []

    def centre_boxes(frames, model_path, min_confidence=0.5):
        seen.append(len(frames))
        h, w = frames.shape[1:3]
        return np.tile([w // 4, h // 4, w // 2, h // 2], (len(frames), 1))

    monkeypatch.setattr(mediapipe_boxes, "mediapipe_face_boxes", centre_boxes)
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    w = tmp_path / "home" / "weights"
    w.mkdir(parents=True)
    torch.jit.script(FloatClipDetector(I3D(random_state_dict(0)), 0.0, 1.0, 16)).save(str(w / "i3d_torchscript.pt"))
    (w / "face_detection_short_range.tflite").write_bytes(b"stand-in")
    dirs = same_and_other(tmp_path, media)
    res = evaluate(dirs["gt"], {m: dirs[m] for m in ("same", "other")}, out=tmp_path / "out",
                   metrics="fvd@latentsync", cache_dir=tmp_path / "cache", workers=1)
    rows = {r.method: r for r in res.rows if r.clip == SET_CLIP}
    assert rows["same"].value == pytest.approx(0.0, abs=1e-6)
    assert rows["other"].status == "ok" and rows["other"].value > 0, rows["other"]
    assert rows["other"].n_frames == 2  # one 16-frame clip per video
    assert seen and set(seen) == {16}  # only frames 20–35 are searched for faces
