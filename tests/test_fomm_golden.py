"""Golden values of ``l1@fomm``, ``aed@fomm`` and ``aed@fomm-current`` from FOMM's own
evaluation code, run outside the project (scratch folder) on real VoxCeleb2-style frames with
random OpenFace weights.

Provenance (run 2026-12-06, CPU, Python 3.11, torch 2.14.1, scikit-image 0.26.0, imageio 2.38.2,
pandas 3.1.1, numpy and scipy of the dev extra):

- references: AliaksandrSiarohin/pose-evaluation commit 1bc4cae118bb0cf806bc828c73d27ed8be777d13,
  ``extract.py`` (``extract_face_id``), ``util.py`` (``frames2array``), ``cmp.py``; its
  OpenFacePytorch submodule thnkim/OpenFacePytorch at the pinned commit
  d00221832413e86b5608ca791c956b7949479627 (``loadOpenFace.py``, ``SpatialCrossMapLRN_temp.py``)
  for ``aed@fomm``, and at 548149aaaf7a3853cd8425dafd989d0d297a99a3 (HEAD, whose
  ``loadOpenFace.py`` falls back to ``nn.LocalResponseNorm`` when ``torch.legacy`` is missing)
  for ``aed@fomm-current``; AliaksandrSiarohin/first-order-model commit
  c0274845cb2dd8f0f2fe6da580d97b60fef90c91 ``reconstruction.py`` (the L1 expression
  ``torch.abs(out['prediction'] - driving).mean()`` per frame, ``np.mean(loss_list)``).
- weights: :func:`golden_state` on ``netOpenFace``'s keys (identical names and shapes to
  :class:`OpenFaceNet`), ``torch.save(..., _use_new_zipfile_serialization=False)`` as
  ``OpenFacePytorch/openface.pth`` (what ``prepareOpenFace`` loads); value sha256
  :data:`WEIGHTS_SHA256`, asserted.
- data: :func:`golden_clips` written as PNG folders ``data/{gt,pred}/{00104,741400163}/%05d.png``
  (12 and 7 frames, 224×224; ``frames2array`` reads a folder per video, and its
  ``--image_shape 256,256`` only slices the first 256 columns, a no-op here).
- commands (in /tmp/golden-fomm, a driver running the scripts with ``runpy``):
  ``python extract.py --in_folder data/gt --out_file id_gt.pkl --is_video --type face_id
  --image_shape 256,256``, the same for ``data/pred``, then ``python cmp.py id_gt.pkl id_pred.pkl``
  → ``Average difference``; the L1 expression over the same PNGs read with
  ``img_as_float32(skimage.io.imread(...))`` as FOMM's FramesDataset reads frames.
- adaptations, and only these: (1) CPU: ``prepareOpenFace(useCuda=False)`` and the input's
  ``.cuda()`` dropped in ``extract_face_id``; (2) pinned run only: ``torch.legacy`` (removed in
  torch 1.0) stubbed in ``sys.modules`` with a ``Module`` whose ``forward`` calls
  ``updateOutput`` (torch 0.4.1's legacy Module) so ``SpatialCrossMapLRN_temp`` runs unchanged
  (its deprecated ``add_(1, t)`` still works, with a warning); (3) pinned run only:
  ``skimage.transform.resize`` given scikit-image 0.14.0's defaults (``anti_aliasing=False,
  mode='constant'``; pose-evaluation's requirements.txt pins 0.14.0), the current run keeps
  0.26.0's (anti-aliasing on when shrinking, ``mode='reflect'``).
- printed: current ``Average difference: 8.924680000735144e-05``, pinned
  ``Average difference: 0.0001555895568377517``, ``Reconstruction loss: 0.023419276``.

Tolerance reached (asserted ≤ 1e-5 relative): aed@fomm 2.5e-6, aed@fomm-current 3.6e-6
(float32 embeddings, batched here vs one frame at a time there); l1@fomm 6e-8 (the reference
prints a float32 mean).
"""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from thgeval.io import load_clip  # noqa: E402
from thgeval.metrics import resolve  # noqa: E402
from thgeval.metrics.fidelity import l1  # noqa: E402
from thgeval.metrics.identity import openface_embeddings, squared_embedding_distance  # noqa: E402
from thgeval.nets.openface import OpenFaceNet, load_openface  # noqa: E402

from _golden_weights import per_key_random_state, values_sha256  # noqa: E402

SEED = 20261206
CLIPS = {"voxceleb2/00104.mp4": 12, "voxceleb2/741400163.mp4": 7}  # clip: first frames used
WEIGHTS_SHA256 = "d1794bb1e1bea3e0d0ac9c15589ffec7642cf63b65dc260c694f401bd18ec169"
GOLDEN = {  # metric@variant: value printed by the reference
    "aed@fomm": 0.0001555895568377517,
    "aed@fomm-current": 8.924680000735144e-05,
    "l1@fomm": 0.023419276,
}
TOL = 1e-5  # relative


def golden_state(keys_shapes, seed: int = SEED) -> dict:
    """Random OpenFace weights seeded per key (independent of key order), activations O(1);
    no ``num_batches_tracked`` (the 2018 file predates them)."""
    out = per_key_random_state(keys_shapes, seed)
    out["layer1.weight"] *= 40.0  # large early activations, so the two LRN readings differ
    return out


def degrade(frames: np.ndarray, seed: int) -> np.ndarray:
    """The 'generated' copy: Gaussian blur (5×5, σ 1.5) plus seeded Gaussian noise (σ 6)."""
    rng = np.random.default_rng(seed)
    out = np.stack([cv2.GaussianBlur(f, (5, 5), 1.5) for f in frames]).astype(np.float64)
    return np.clip(np.rint(out + rng.normal(0, 6, out.shape)), 0, 255).astype(np.uint8)


def golden_clips(media):
    """{name: (gt, pred)} uint8 RGB frames: the first frames of each clip (thgeval's PyAV
    decode) and their degraded copies; the reference read the same frames from PNG folders."""
    out = {}
    for i, (clip, n) in enumerate(sorted(CLIPS.items())):
        gt = load_clip(media / clip, audio=False).frames[:n]
        out[clip.split("/")[1].split(".")[0]] = (gt, degrade(gt, SEED + i))
    return out


@pytest.fixture(scope="module")
def state():
    st = golden_state([(k, tuple(v.shape)) for k, v in OpenFaceNet().state_dict().items()])
    assert values_sha256(st) == WEIGHTS_SHA256  # the reference ran on exactly these values
    return st


@pytest.fixture(scope="module")
def clips(media):
    return golden_clips(media)


def test_weights_load_from_released_file_format(state, tmp_path):
    path = tmp_path / "openface.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    assert path.read_bytes()[:2] != b"PK"  # legacy serialisation, as the 2018 file
    net = load_openface(path)
    assert values_sha256({k: v for k, v in net.state_dict().items() if k in state}) == WEIGHTS_SHA256


@pytest.mark.parametrize("key", ["aed@fomm", "aed@fomm-current"])
def test_aed_fomm_equals_pose_evaluation(key, state, clips):
    p = resolve(key).params()
    net = load_openface(state, p["lrn"])
    opts = dict(size=p["size"], anti_aliasing=p["anti_aliasing"], resize_mode=p["resize_mode"],
                crop_width=p["crop_width"])
    d = np.concatenate([squared_embedding_distance(openface_embeddings(pred, net, **opts),
                                                   openface_embeddings(gt, net, **opts))
                        for gt, pred in clips.values()])
    assert resolve(key).variant.aggregation == "pooled-frames"
    assert abs(d.mean() - GOLDEN[key]) <= TOL * GOLDEN[key]


def test_l1_fomm_equals_reconstruction_loss(clips):
    assert resolve("l1@fomm").variant.aggregation == "pooled-frames"
    d = np.concatenate([l1(pred, gt) for gt, pred in clips.values()])
    assert abs(d.mean() - GOLDEN["l1@fomm"]) <= TOL * GOLDEN["l1@fomm"]


def test_legacy_lrn_keeps_channel_zero():
    from thgeval.nets.openface import CrossMapLRN

    x = torch.randn(1, 7, 2, 2) * 30
    legacy, plain = CrossMapLRN(mode="legacy-port")(x), CrossMapLRN(mode="torch")(x)
    assert torch.allclose(legacy[:, :3], plain[:, :3])
    s = (x[:, 1:6] ** 2).sum(1) + x[:, 0] ** 2  # channel 3: window 1…5 plus the stale channel 0
    assert torch.allclose(legacy[:, 3], x[:, 3] * (1 + 1e-4 / 5 * s) ** -0.75)


def test_aed_fomm_skips_without_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    ref = resolve("aed@fomm")
    assert "openface-nn4-small2" in ref.metric.why_not("fomm")
