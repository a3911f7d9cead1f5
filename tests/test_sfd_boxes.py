"""face_alignment's SFD face detector (:mod:`thgeval.face.sfd_boxes`) and the ``boxes="sfd"``
records of ``lmd_mouth@vico`` and ``akd@fomm``: parity with face_alignment's own code.

Weights: seeded random S3FD weights (:func:`thgeval.nets.state.random_state`, seed ``SEED``, in
the key order of face_alignment's ``s3fd()``, which ``FAS3FD`` shares) saved with ``torch.save``
as face_alignment's ``s3fd-619a316812.pth`` is, with two deterministic changes so that boxes are
finite and a few faces are found per frame: conv1_1's kernel divided by 100 (the input is in
pixel units, ±128: activations stay O(1), so the exponentiated box sizes stay finite and the
scores do not saturate at 1) and every confidence head's face-logit bias lowered by 1 (the
random head otherwise passes about half of the anchors: hundreds of boxes per frame; with the
change 3–8 per frame on the frames used here, at least one on every one). FAN: the seeded
random 2DFAN-4 of tests/test_lmd_vico.py, as a TorchScript archive.

Detection parity (``test_detection_equals_face_alignment``): face_alignment 1.3.5's
``detection/sfd`` (``detect``, ``bbox.nms``, then ``SFDDetector._filter_bboxes``'s score
> 0.5, from the unpacked wheel at /tmp/golden-fan/fa135, imported only when present; 1.3.4's
files, ViCo's version, are byte-identical) on GRID and VoxCeleb2 frames: every box and score
equal, asserted to 1e-4 px (reached: 0.0, bit-identical, on 2026-12-06 with numpy 2.4.6 /
torch 2.14.1 CPU). Without the reference, pinned goldens ``DETECTIONS`` (count, first box and
score, from the same run) are checked.

End-to-end goldens (``LMD_VICO_SFD``, ``AKD_FOMM_SFD``, ``*_BOXES``, ``GT_SHA_SFD``,
``PRED_SHA_SFD``) were computed outside the project on 2026-12-06 by ``python e2e_golden.py``
in /tmp/golden-sfd (Python 3.11, torch 2.14.1 CPU, numpy 2.4.6, numba 0.68.1, OpenCV 5.0.0):

- face_alignment 1.3.4 (``git archive v1.3.4`` of 1adrianb/face-alignment, the last release
  with ``LandmarksType._2D``, which ViCo's and pose-evaluation's code use), its own
  ``FaceAlignment.get_landmarks`` with its ``SFDDetector`` (``path_to_detector`` = the random
  .pth above) and, as ``face_alignment_net``, 1.2.0's ``FAN(4)`` with the random weights
  returning its last stack (as the release's TorchScript model does); the object made with
  ``object.__new__`` and its attributes set (``__init__`` downloads the released weights);
- ViCo: dc3ea9f/vico_challenge_baseline commit 16424c07318e4ba5238e07d387916122c4dc73c8
  ``evaluations/compute_lmd.py``, its loop body verbatim (``flip_input=True``) on GRID
  ``grid/bbaf2n.mpg`` frames 0–2 (decoded with ``thgeval.io.load_clip``, RGB), pred frame t =
  GT frame max(t − 2, 0);
- pose-evaluation: AliaksandrSiarohin/pose-evaluation commit
  1bc4cae118bb0cf806bc828c73d27ed8be777d13 ``extract.py`` ``extract_face_pose``'s per-frame body
  (``flip_input=False``) on ``frames2array``'s cut ``[:, :, :256]`` of frames 40–42 and
  ``cmp_kp.py``'s per-frame ``np.mean(np.abs(gt - gen))`` and mean.

Tolerances reached: SFD boxes bit-identical; landmarks bit-identical (sha256 of the float64
arrays); LMD equal to float32 rounding (the reference averages float32 arrays): rel 3.5e-8,
asserted rel 1e-7; AKD exact (asserted rel 1e-12).

Versions: ViCo calls ``LandmarksType._2D``, renamed ``TWO_D`` in 1.3.5, so it ran face_alignment
≤ 1.3.4 (its detector files equal 1.3.5's). pose-evaluation pins face-alignment v1.0.0 as a
submodule (commit 3750f83b): the same detector steps (BGR − [104, 117, 123], 0.05, NMS 0.3,
> 0.5, best first) decoded in float32 torch arithmetic, with weights named s3fd_convert.pth.
Cross-check, not pinned here (``python v100_check.py`` in /tmp/golden-sfd, 2026-12-06): v1.0.0's
own detector gives the same boxes to 3.1e-5 px (float32) on the frames of the AKD golden and on
VoxCeleb2 ``00002.mp4`` frame 0, and its ``get_landmarks`` (1.0.0's FAN class and torch
post-processing, the same random weights; its boxes handed over as float64, since today's torch
refuses the numpy float32 scalars 0.4.1 accepted) gives ``AKD_FOMM_SFD`` exactly.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from _stub_sample import StubSample

import torch

from thgeval.errors import MetricSkipped
from thgeval.face.sfd_boxes import detect, first_boxes
from thgeval.metrics import resolve
from thgeval.nets.fa_s3fd import FAS3FD, load_fa_s3fd
from thgeval.nets.fan import FAN
from thgeval.nets.state import random_state

SEED = 20261206
N = 3
FA_SFD = Path("/tmp/golden-fan/fa135/face_alignment/detection/sfd")  # the reference, when present

# (clip, frame): (count, first box x0, y0, x1, y1, score) from face_alignment 1.3.5's detector
DETECTIONS = {
    ("grid/bbaf2n.mpg", 0): (3, [177.96710205078125, 224.96693325042725, 369.5863952636719, 495.92106533050537, 0.739818811416626]),
    ("grid/lwbsza.mpg", 30): (5, [267.66895294189453, 226.59053325653076, 440.56641387939453, 496.2008237838745, 0.8268868327140808]),
    ("voxceleb2/00002.mp4", 0): (8, [153.81471252441406, 95.51379585266113, 316.7628631591797, 434.0334186553955, 0.8561292886734009]),
    ("voxceleb2/00086.mp4", 10): (7, [184.83535385131836, 131.94891357421875, 376.71352767944336, 398.2910461425781, 0.8107701539993286]),
}

LMD_VICO_SFD = 4.541666507720947
GT_SHA_SFD = "cc11da5c55ad48aefb3dde661fdd71ca6cd0a774f0478ed6b4502827e647eb14"
PRED_SHA_SFD = "e4c4e84949a58ac10557596a158427923d29248e1668f2a645291107794dd7ce"
GT_MOUTH_0_SFD = [[164.0, 266.0], [253.0, 415.0], [349.0, 400.0], [55.0, 561.0]]
VICO_GT_BOXES = [[177.96710205078125, 224.96693325042725, 369.5863952636719, 495.92106533050537],
                 [177.15137100219727, 223.28830575942993, 368.6774482727051, 495.2483277320862],
                 [177.63429641723633, 222.9916262626648, 369.53747940063477, 495.4911684989929]]
AKD_FOMM_SFD = 5.8161764705882355
FOMM_GT_BOXES = [[217.9888687133789, 128.47179698944092, 423.5545425415039, 474.1975049972534],
                 [217.62921142578125, 131.4700345993042, 424.3891296386719, 474.2521085739136],
                 [217.08765411376953, 130.84647369384766, 422.8273239135742, 473.3134231567383]]
FOMM_PRED_BOXES = [[215.14519882202148, 130.01872062683105, 425.17065048217773, 470.65235710144043],
                   [216.68606567382812, 126.3806962966919, 424.8424377441406, 472.2934465408325],
                   [217.9888687133789, 128.47179698944092, 423.5545425415039, 474.1975049972534]]


def sfd_state(face_bias: float = -1.0) -> dict:
    st = random_state(FAS3FD(), SEED)
    st["conv1_1.weight"] = st["conv1_1.weight"] / 100
    for k in st:
        if k.endswith("_mbox_conf.bias"):
            st[k][-1] += face_bias
    return st


@pytest.fixture(scope="module")
def sfd_dir(tmp_path_factory):
    """The random S3FD under its released file name (a torch.save state dict)."""
    d = tmp_path_factory.mktemp("sfdweights")
    torch.save(sfd_state(), d / "s3fd-619a316812.pth")
    return d


@pytest.fixture(scope="module")
def weights_dir(sfd_dir):
    """... and the random FAN beside it, as a TorchScript archive (the slow part: ~20 s)."""
    net = FAN(4)
    net.load_state_dict(random_state(net, SEED))
    torch.jit.trace(net.eval(), torch.zeros(1, 3, 64, 64)).save(str(sfd_dir / "2DFAN4-cd938726ad.zip"))
    return sfd_dir


def _reference_sfd():
    """face_alignment's sfd modules imported from the unpacked wheel without running the
    package's ``__init__`` (which loads the whole API); None when absent."""
    if not (FA_SFD / "detect.py").exists():
        return None
    pkg = types.ModuleType("_fa_sfd_ref")
    pkg.__path__ = [str(FA_SFD)]
    sys.modules["_fa_sfd_ref"] = pkg
    return tuple(importlib.import_module(f"_fa_sfd_ref.{m}") for m in ("detect", "bbox", "net_s3fd"))


def test_layout_is_face_alignments():
    """Same parameter names, shapes and order as face_alignment's s3fd (the file loads as is)."""
    own = FAS3FD().state_dict()
    assert list(own)[:2] == ["conv1_1.weight", "conv1_1.bias"] and "conv3_3_norm.weight" in own
    assert own["conv3_3_norm_mbox_conf.weight"].shape == (4, 256, 3, 3)
    ref = _reference_sfd()
    if ref is not None:
        theirs = ref[2].s3fd().state_dict()
        assert list(theirs) == list(own)
        assert all(theirs[k].shape == own[k].shape for k in own)


@pytest.mark.media
def test_detection_equals_face_alignment(media, sfd_dir):
    from thgeval.io import load_clip

    ours = load_fa_s3fd(sfd_dir / "s3fd-619a316812.pth")
    ref = _reference_sfd()
    if ref is not None:
        rdet, rbox, rnet = ref
        theirs = rnet.s3fd()
        theirs.load_state_dict(torch.load(sfd_dir / "s3fd-619a316812.pth"))
        theirs.eval()
    for (clip, t), want in DETECTIONS.items():
        frame = load_clip(media / clip, audio=False).frames[t]
        d = detect(ours, frame)
        assert len(d) >= 1
        if ref is not None:
            b = rdet.detect(theirs, frame.copy(), device="cpu")[0]
            b = b[rbox.nms(b, 0.3), :]
            b = np.array([x for x in b if x[-1] > 0.5]).reshape(-1, 5)  # SFDDetector._filter_bboxes
            assert d.shape == b.shape
            np.testing.assert_allclose(d, b, rtol=0, atol=1e-4)
        assert len(d) == want[0]
        np.testing.assert_allclose(d[0], want[1], rtol=0, atol=1e-4)


def test_no_face_gives_nan_box():
    net = FAS3FD()
    net.load_state_dict(sfd_state(face_bias=-30.0))  # every face probability far below 0.05
    frames = np.full((2, 64, 80, 3), 128, np.uint8)
    assert detect(net.eval(), frames[0]).shape == (0, 5)
    boxes, counts = first_boxes(net, frames)
    assert np.isnan(boxes).all() and counts.tolist() == [0, 0]


_Sample = StubSample  # conformed frames, no face track


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, np.float64).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def grid(media):
    from thgeval.io import load_clip

    gt = load_clip(media / "grid" / "bbaf2n.mpg", audio=False).frames
    return np.concatenate([gt[:1], gt[:1], gt[:-2]]), gt


@pytest.mark.media
def test_lmd_vico_sfd_equals_reference(grid, weights_dir, monkeypatch):
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(weights_dir))
    pred, gt = grid
    sample = _Sample(pred[:N], gt[:N])
    ref = resolve("lmd_mouth@vico")
    assert ref.params()["boxes"] == "sfd"
    v = ref.metric.clip_fn(sample, **ref.params())
    bp, kp, bg, kg = sample.memo(("sfd-boxes", None), None)
    np.testing.assert_allclose(bg, VICO_GT_BOXES, rtol=0, atol=1e-4)
    np.testing.assert_allclose(bp, [VICO_GT_BOXES[0]] * N, rtol=0, atol=1e-4)  # pred = GT 0, 0, 0
    a, b = sample.memo(("fan-landmarks-sfd", True, None), None)
    assert b[0, 48:52].tolist() == GT_MOUTH_0_SFD
    assert _sha(b) == GT_SHA_SFD and _sha(a) == PRED_SHA_SFD
    assert v.n_frames == N
    assert v.value == pytest.approx(LMD_VICO_SFD, rel=1e-7)


@pytest.mark.media
def test_akd_fomm_sfd_equals_reference(grid, weights_dir, monkeypatch):
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(weights_dir))
    pred, gt = grid
    sample = _Sample(pred[40:40 + N], gt[40:40 + N])
    ref = resolve("akd@fomm")
    v = ref.metric.clip_fn(sample, **ref.params())
    bp, _, bg, _ = sample.memo(("sfd-boxes", 256), None)
    np.testing.assert_allclose(bg, FOMM_GT_BOXES, rtol=0, atol=1e-4)
    np.testing.assert_allclose(bp, FOMM_PRED_BOXES, rtol=0, atol=1e-4)
    assert v.n_frames == N and v.value == pytest.approx(AKD_FOMM_SFD, rel=1e-12)


def test_no_gt_face_skips(tmp_path, monkeypatch):
    """SFD finds no face anywhere: the metric is skipped, not a crash (the references crash)."""
    torch.save(sfd_state(face_bias=-30.0), tmp_path / "s3fd-619a316812.pth")
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))
    frames = np.full((2, 64, 80, 3), 128, np.uint8)
    ref = resolve("lmd_mouth@vico")
    with pytest.raises(MetricSkipped, match="no face"):
        ref.metric.clip_fn(_Sample(frames, frames), **ref.params())


def test_records_and_missing_weights(tmp_path, monkeypatch):
    for key in ("lmd_mouth@vico", "akd@fomm"):
        ref = resolve(key)
        assert ref.params()["boxes"] == "sfd" and ref.version == "3"
        assert ref.variant.weights == ("fan-2d", "s3fd-fa")
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    assert "`thgeval weights fetch s3fd-fa`" in resolve("akd@fomm").metric.why_not("fomm")
    frames = np.full((2, 64, 80, 3), 128, np.uint8)
    ref = resolve("lmd_mouth@vico")
    with pytest.raises(MetricSkipped, match="thgeval weights fetch s3fd-fa"):
        ref.metric.clip_fn(_Sample(frames, frames), **ref.params())
