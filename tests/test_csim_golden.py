"""``csim@bilayer`` and ``csim@vico`` against the reference code they reproduce, on seeded
random weights saved in each reference's own file format (the released weights cannot be
downloaded here).

Golden values (``BILAYER``, ``VICO``) were made outside the project in /tmp/golden-csim on
2026-12-06 (torch 2.14.1, torchvision 0.29.1, OpenCV 5.0.0, scikit-image 0.26.0, CPU float32)
by ``PYTHONPATH=src python golden_csim.py`` from these snapshots:

- saic-violet/bilayer-model commit c01cebec7b7fea83a5dbc8b599d4f98999ce3e6b, ``losses/csim.py``
  copied unchanged (``LossWrapper``, ``find_affine_transformation``, ``InsightFaceWrapper``,
  ``Backbone(50, 0.6, 'ir_se')``; the same class as TreB1eN/InsightFace_Pytorch commit
  350ff7aa9c9db8d369d1932e14d2a4d11a3e9553 ``model.py``), inputs built as
  ``datasets/voxceleb2.py`` builds them: ``to_tensor`` of the PIL image then ``(x − 0.5) · 2``,
  keypoints ``/ s`` then ``(k − 0.5) · 2``; ``LossWrapper(args).forward`` with ``num_gpus=0`` gave
  ``G_CSIM``; weights ``irse.random_state_dict(0)`` saved with ``torch.save`` as
  ``pretrained_weights/csim/insight_face.pth`` and loaded by the reference's strict
  ``load_state_dict``.
- dc3ea9f/vico_challenge_baseline commit 16424c07318e4ba5238e07d387916122c4dc73c8,
  ``evaluations/arcface_torch/compute_csim.py`` (its ``read_mp4`` loop body and main body) and
  ``backbones/`` copied unchanged: ``get_model('r100', fp16=False)``, strict
  ``load_state_dict(torch.load(…))`` of ``iresnet.random_state_dict(0)``, CPU instead of
  ``.cuda()``, ``F.cosine_similarity(gt, pd).mean()``.

Frames: GRID ``grid/bbaf2n.mpg`` decoded with ``thgeval.io.load_clip`` (360×288); GT frames 0,
20, 40, 60 and "generated" frames 3, 23, 43, 63. Adaptations: bilayer gets the 288×288 square
``[:, 36:324]`` of each frame (its code scales x by the height and y by the width, the same only
on square frames) and the 68 landmarks of thgeval's dlib face analysis (``analyze_frames``) of the
GT crops instead of face-alignment's; the ViCo script gets the frames as BGR arrays
(``frame[..., ::-1]``) instead of ``cv2.VideoCapture`` reading an mp4, one batch, no pandas loop.

Tolerance reached (CPU, float32): ``csim@bilayer`` 1.7e-6 absolute (per frame ≤ 3.8e-6, embedding
numbers 2.7e-5 relative), limited by the reference's float32 keypoint and matrix arithmetic (its
``affine_grid`` matrices differ from thgeval's float64 ones by 2e-7, its crops by 3e-5);
``csim@vico`` 9.5e-9 absolute (per frame ≤ 7e-8, embedding numbers 1.2e-5 relative). Asserted:
CSIM and per-frame cosines ≤ 1e-5 absolute, embedding numbers 1e-4 relative. The weights are
regenerated here from the seed and checked against the reference run's sha256 of every tensor;
the landmarks against the sum the reference run saw.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from _stub_sample import StubSample

torch = pytest.importorskip("torch")

from thgeval.metrics import resolve  # noqa: E402
from thgeval.metrics.face_pairs import FacePair  # noqa: E402

GT_IDX, PRED_IDX = [0, 20, 40, 60], [3, 23, 43, 63]
X0, S = 36, 288

BILAYER = dict(
    state_sha256="d5deae9453272b91be71c4a8213218c54cb891e94c15566f87e2090bf6a79be2",
    csim=0.47952136397361755,
    per_frame=[0.5345466732978821, 0.5551021099090576, 0.35826969146728516, 0.4701670706272125],
    gt_emb0_head=[-0.04168177396059036, -0.01885993778705597, -0.012265940196812153, 0.047458846122026443,
                  0.03599727898836136],
    pred_emb0_head=[-0.04441416636109352, -0.02534015290439129, -0.010431501083076, 0.01782829500734806,
                    0.02067042514681816],
    landmarks_sum=84191.0,
)
VICO = dict(
    state_sha256="dbcd5539d886b80d8598d6954a80c65c5dee9864d90cae713b7c894d8b1cf7c1",
    csim=0.9960322380065918,
    per_frame=[0.9982216358184814, 0.9954968690872192, 0.9942052364349365, 0.9962053894996643],
    gt_emb0_head=[1081632.875, -1652125.75, -2051458.375, -1185560.25, 1990761.5],
    pred_emb0_head=[1053189.25, -2106472.25, -1957598.375, -1194930.75, 2035279.75],
)


def _digest(state) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def _Sample(pred, gt, landmarks=None):
    """Exact frames; with ``landmarks``, a face pair of them on every frame."""
    memo = {}
    if landmarks is not None:
        ok = np.ones(len(gt), bool)
        memo["face-pair"] = FacePair(landmarks, landmarks, ok, ok, None, None, [])
    return StubSample(pred, gt, memo)


@pytest.fixture(scope="module")
def frames(media):
    from thgeval.io import load_clip

    return load_clip(media / "grid" / "bbaf2n.mpg").frames


def _run(spec, sample):
    ref = resolve(spec)
    return ref.metric.clip_fn(sample, **ref.params())


def _weights(tmp_path, monkeypatch, name, state, golden):
    from thgeval.weights import get

    assert _digest(state) == golden["state_sha256"]  # the reference run's weights, regenerated
    torch.save(state, tmp_path / get(name).filename)
    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))


@pytest.mark.media
def test_bilayer_equals_reference(frames, tmp_path, monkeypatch):
    pytest.importorskip("dlib")
    from thgeval.face.analyze import analyze_frames
    from thgeval.nets import face_id, irse

    gt = np.ascontiguousarray(frames[GT_IDX, :, X0:X0 + S])
    pred = np.ascontiguousarray(frames[PRED_IDX, :, X0:X0 + S])
    lm = analyze_frames(gt).landmarks.astype(np.float64)
    assert lm.sum() == BILAYER["landmarks_sum"]  # the reference run's landmarks
    state = irse.random_state_dict(0)
    _weights(tmp_path, monkeypatch, "arcface-irse50-treb1en", state, BILAYER)

    v = _run("csim@bilayer", _Sample(pred, gt, lm))
    assert v.n_frames == 4
    assert abs(v.value - BILAYER["csim"]) <= 1e-5
    np.testing.assert_allclose(v.series, BILAYER["per_frame"], atol=1e-5)

    net = irse.IRSE(50, weights=state)
    eg = face_id.frame_embeddings("irse50", gt, np.arange(4), lm, net=net)
    ep = face_id.frame_embeddings("irse50", pred, np.arange(4), lm, net=net)
    np.testing.assert_allclose(eg[0, :5], BILAYER["gt_emb0_head"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ep[0, :5], BILAYER["pred_emb0_head"], rtol=1e-4, atol=1e-6)


@pytest.mark.media
def test_vico_equals_reference(frames, tmp_path, monkeypatch):
    from thgeval.nets import face_id, iresnet

    gt, pred = frames[GT_IDX], frames[PRED_IDX]
    state = iresnet.random_state_dict(0)
    _weights(tmp_path, monkeypatch, "arcface-r100-ms1mv3", state, VICO)

    v = _run("csim@vico", _Sample(pred, gt))
    assert v.n_frames == 4
    assert abs(v.value - VICO["csim"]) <= 1e-5
    np.testing.assert_allclose(v.series, VICO["per_frame"], atol=1e-5)

    net = iresnet.IResNet("r100", weights=state)
    eg = face_id.frame_embeddings("iresnet100", gt, np.arange(4), net=net)
    np.testing.assert_allclose(eg[0, :5], VICO["gt_emb0_head"], rtol=1e-4)


def test_variants_registered_and_skip_without_weights(tmp_path, monkeypatch):
    from thgeval.errors import MetricSkipped

    monkeypatch.setenv("THGEVAL_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    assert resolve("csim").variant.name == "dlib"  # the default is unchanged
    for spec, w in (("csim@bilayer", "arcface-irse50-treb1en"), ("csim@vico", "arcface-r100-ms1mv3")):
        ref = resolve(spec)
        assert ref.params()["pairing"] == "gt-frame"
        assert ref.metric.missing_weights(ref.variant.name) == [w]
        frames = np.zeros((2, 64, 64, 3), np.uint8)
        lm = np.tile(np.linspace(10, 50, 136).reshape(1, 68, 2), (2, 1, 1))
        with pytest.raises(MetricSkipped, match=w):
            _run(spec, _Sample(frames, frames, lm))


def test_vico_protocol_resolves_to_the_variant():
    from thgeval.protocols import get_protocol, missing_metrics

    p = get_protocol("vico")
    assert "csim@vico" in p.metrics and "csim@vico" not in missing_metrics(p)
