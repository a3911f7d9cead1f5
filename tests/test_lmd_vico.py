"""``lmd_mouth@vico`` and the FAN landmark backend: golden parity with face_alignment + ViCo.

Golden values (``GT_SHA``, ``PRED_SHA``, ``GT_MOUTH_0``, ``LMD_VICO``) were computed outside the
project on 2026-12-06 (``python fan_golden.py 3`` in /tmp/golden-fan; torch 2.14.1 CPU, OpenCV
5.0.0, numpy of the dev extra) by:

- network: face_alignment 1.2.0 (pip sdist) ``face_alignment/models/fan.py``, ``FAN(4)``
  verbatim, called as its 1.2.0 ``api.py`` does (``net(inp)[-1]``), with the seeded random
  weights of :func:`thgeval.nets.state.random_state`'s algorithm (copied), seed ``SEED``, in
  ``FAN(4).state_dict()`` key order;
- preprocessing and decoding: face_alignment 1.3.5 (pip wheel) ``face_alignment/utils.py``
  (``crop``, ``flip``, ``get_preds_fromhm``; numba's ``@jit`` replaced by the identity, numba
  not installed) and the body of ``FaceAlignment.get_landmarks_from_image`` (``flip_input=True``
  as ViCo constructs it) for one given box; 1.4.1's body differs only in dtype casts;
- LMD: dc3ea9f/vico_challenge_baseline commit 16424c0 ``evaluations/compute_lmd.py``, its
  per-frame loop over ``zip(gt_frames, pd_frames)`` and ``np.array(lmd_values).mean()``.

These goldens pin the FAN half with boxes given (``boxes="track"``, here the fixed boxes of the
face pair); the records' own ``boxes="sfd"`` (face_alignment's detector per frame) is pinned
end to end in tests/test_sfd_boxes.py.

Adaptations: frames are GRID ``grid/bbaf2n.mpg`` decoded with ``thgeval.io.load_clip`` (first 3
of 75, RGB) instead of ``cv2.VideoCapture``; pred frame t = GT frame max(t − 2, 0); fixed boxes
``GT_BOX`` (dlib's frontal detector on frame 0) and ``PRED_BOX`` (a shifted, fractional box)
passed as ``detected_faces`` instead of running SFD; FaceAlignment not instantiated (it downloads
weights), its method body inlined.

``akd@fomm`` (``AKD_FOMM``): the same network, weights, boxes and reference functions with
``flip_input=False`` as AliaksandrSiarohin/pose-evaluation commit 1bc4cae118bb0cf806bc828c73d27ed8be777d13
``extract.py`` (``extract_face_pose``) builds FaceAlignment, on ``util.frames2array``'s column cut
(``--image_shape 256,256``: frames[:, :, :256]) of GRID frames 40–42 (pred = GT delayed by two
frames), and ``cmp_kp.py``'s per-frame ``np.mean(np.abs(gt - gen))`` and mean over frames;
``python akd_golden.py 3 40`` in /tmp/golden-fan, 2026-12-06. Tolerance reached: exact.

Tolerance reached: landmarks bit-identical (integers, sha256 of the int32 arrays); LMD equal to
float32 rounding (the reference averages float32 arrays; thgeval float64): asserted rel 1e-7.
The weights travel as a TorchScript archive (the format of face_alignment ≥ 1.3's
``2DFAN4-cd938726ad.zip``) written by the test from the same random state.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from _stub_sample import StubSample

import torch

from thgeval.metrics import resolve
from thgeval.metrics.face_pairs import FacePair
from thgeval.nets.fan import FAN, fan_landmarks, load_fan, read_fan_state
from thgeval.nets.state import random_state

SEED = 20261206
N = 3  # frames: each FAN pass costs about 0.3 s of CPU, twice per frame and side (flip)
GT_BOX = (96, 125, 225, 254)
PRED_BOX = (99.5, 122.25, 228.5, 252.0)
GT_SHA = "dea9adbca5b9c9d0a4216b8f6e6a44f720992e0510d3fa7e1da2a9246f583014"
PRED_SHA = "0dd3ef5399ba2c90ef9980e90b4288df60ee7bbb6502eb36a836228638a667fc"
GT_MOUTH_0 = [[99, 139], [149, 222], [202, 214], [38, 304]]  # GT frame 0, points 48–51
LMD_VICO = 2.924999952316284


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, np.int32).tobytes()).hexdigest()


class _Track:
    def __init__(self, box):
        self.boxes = np.tile(np.asarray(box, np.float32), (N, 1))


def _Sample(pred, gt):
    """Exact frames and a face pair with the fixed boxes."""
    ok = np.ones(N, bool)
    nan = np.zeros((N, 68, 2))
    return StubSample(pred, gt, {"face-pair": FacePair(nan, nan, ok, ok, _Track(PRED_BOX), _Track(GT_BOX))})


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """The seeded random FAN as a TorchScript archive under the released file name."""
    d = tmp_path_factory.mktemp("fanweights")
    net = FAN(4)
    net.load_state_dict(random_state(net, SEED))
    # traced like the release (a small input suffices: only the parameters are read back)
    torch.jit.trace(net.eval(), torch.zeros(1, 3, 64, 64)).save(str(d / "2DFAN4-cd938726ad.zip"))
    return d


@pytest.fixture(scope="module")
def vico(media, weights_dir):
    from thgeval.io import load_clip

    mp = pytest.MonkeyPatch()
    mp.setenv("THGEVAL_WEIGHTS_DIR", str(weights_dir))
    gt = load_clip(media / "grid" / "bbaf2n.mpg").frames
    pred = np.concatenate([gt[:1], gt[:1], gt[:-2]])[:N]
    sample = _Sample(pred, gt[:N])
    ref = resolve("lmd_mouth@vico")
    value = ref.metric.clip_fn(sample, **dict(ref.params(), boxes="track"))  # the fixed boxes
    mp.undo()
    return sample, value


@pytest.mark.media
def test_fan_landmarks_equal_face_alignment(vico):
    sample, _ = vico
    pred, gt = sample.memo(("fan-landmarks", True, None), None)
    assert gt[0, 48:52].tolist() == GT_MOUTH_0
    assert _sha(gt) == GT_SHA and _sha(pred) == PRED_SHA


@pytest.mark.media
def test_lmd_vico_equals_reference(vico):
    _, v = vico
    assert v.n_frames == N
    assert v.value == pytest.approx(LMD_VICO, rel=1e-7)


AKD_FOMM = 3.0073529411764706


@pytest.mark.media
def test_akd_fomm_equals_pose_evaluation(media, weights_dir, monkeypatch):
    from thgeval.io import load_clip

    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(weights_dir))
    gt = load_clip(media / "grid" / "bbaf2n.mpg").frames
    pred = np.concatenate([gt[:1], gt[:1], gt[:-2]])
    sample = _Sample(pred[40:40 + N], gt[40:40 + N])
    ref = resolve("akd@fomm")
    params = dict(ref.params(), boxes="track")  # the fixed boxes
    v = ref.metric.clip_fn(sample, **params)
    assert v.n_frames == N and v.value == pytest.approx(AKD_FOMM, rel=1e-12)
    # the flip pass and the column cut are part of the record: without them the number moves
    other = ref.metric.clip_fn(sample, **dict(params, flip=True))
    assert other.value != v.value


def test_weights_formats_agree(tmp_path, weights_dir):
    """The TorchScript archive and a plain state dict (1.2.0's .pth.tar) give the same parameters."""
    state = random_state(FAN(4), SEED)
    torch.save(state, tmp_path / "2DFAN4-11f355bf06.pth.tar")
    a = read_fan_state(weights_dir / "2DFAN4-cd938726ad.zip")
    b = read_fan_state(tmp_path / "2DFAN4-11f355bf06.pth.tar")
    assert a.keys() == b.keys() == state.keys()
    assert all(torch.equal(a[k], state[k]) for k in state)
    assert isinstance(load_fan(tmp_path / "2DFAN4-11f355bf06.pth.tar"), FAN)


def test_missing_box_gives_nan():
    net = FAN(4).eval()
    out = fan_landmarks(net, np.zeros((1, 64, 64, 3), np.uint8), np.full((1, 4), np.nan))
    assert np.isnan(out).all()


def test_variant_record(monkeypatch, tmp_path):
    ref = resolve("lmd_mouth@vico")
    assert ref.params()["landmarks"] == "fan" and ref.params()["norm"] == "l1"
    assert ref.variant.weights == ("fan-2d", "s3fd-fa")
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    assert "fan-2d" in ref.metric.why_not("vico")
