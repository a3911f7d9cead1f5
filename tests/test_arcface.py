"""ArcFace (insightface) identity backend: the embedder against insightface's recipe computed
independently (scikit-image similarity estimate, OpenCV warp, ``cv2.dnn.blobFromImages`` with
insightface's mean/std and RB swap, onnxruntime), on a random-weight ONNX model built here;
the weights lookup, and ``csim@insightface`` end to end."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from thgeval.face import ARCFACE_112  # noqa: E402
from thgeval.face.arcface import ArcFaceEmbedder  # noqa: E402


def random_arcface_onnx(path, seed=0, dim=512):
    """A small recognition-shaped network (N×3×112×112 → N×dim) with random weights."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.1, (16, 3, 8, 8)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 16).astype(np.float32)
    w2 = rng.normal(0, 0.02, (16 * 14 * 14, dim)).astype(np.float32)
    b2 = rng.normal(0, 0.1, dim).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input.1", "w1", "b1"], ["c1"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Flatten", ["r1"], ["f1"], axis=1),
        helper.make_node("Gemm", ["f1", "w2", "b2"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes, "arcface_random",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", dim])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _face_case(seed):
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (240, 260, 3), dtype=np.uint8), (5, 5), 0)
    lm = rng.uniform(60, 180, (68, 2))
    ang = rng.uniform(-0.3, 0.3)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    centre = np.array([130.0, 120.0])
    for idx, p in ((range(36, 42), (95, 100)), (range(42, 48), (160, 100)), ((30,), (128, 140)),
                   ((48,), (100, 175)), ((54,), (155, 175))):
        for i in idx:
            lm[i] = (np.asarray(p) - centre) @ rot.T + centre + rng.normal(0, 1.5, 2)
    return img, lm


def insightface_recipe(session, images, landmarks):
    """insightface ``norm_crop`` + ``ArcFaceONNX.get_feat``, written from its published steps."""
    from skimage.transform import SimilarityTransform

    crops = []
    for img, lm in zip(images, landmarks):
        five = np.array([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])
        t = SimilarityTransform.from_estimate(five, ARCFACE_112) if hasattr(SimilarityTransform, "from_estimate") \
            else SimilarityTransform()
        if not hasattr(SimilarityTransform, "from_estimate"):
            t.estimate(five, ARCFACE_112)
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)  # insightface reads images with cv2 (BGR)
        crops.append(cv2.warpAffine(bgr, t.params[:2], (112, 112), borderValue=0.0))
    blob = cv2.dnn.blobFromImages(crops, 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
    return session.run(None, {session.get_inputs()[0].name: blob})[0]


def test_embedder_equals_the_insightface_recipe(tmp_path):
    path = random_arcface_onnx(tmp_path / "w600k_r50.onnx")
    cases = [_face_case(s) for s in range(6)]
    images, lms = [c[0] for c in cases], [c[1] for c in cases]
    ours = ArcFaceEmbedder(path).embed(images, lms)
    ref = insightface_recipe(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), images, lms)
    assert ours.shape == (6, 512)
    # measured 2026-12-04: max |Δ| 1.8e-7 on outputs of magnitude 0.8 (float32 rounding; the
    # Umeyama fit here and scikit-image's estimate give the same warp)
    assert np.abs(ours - ref).max() <= 1e-5


def test_wrong_model_shape_is_refused(tmp_path):
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 64, 64])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "bad.onnx"))
    from thgeval.errors import MetricSkipped

    with pytest.raises(MetricSkipped, match="expected N×3×112×112"):
        ArcFaceEmbedder(tmp_path / "bad.onnx")


@pytest.mark.media
def test_csim_insightface_skips_without_weights_and_runs_with_them(media, tmp_path, monkeypatch):
    from thgeval.face import embed as embed_mod
    from thgeval.run import evaluate

    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    embed_mod._INSTANCES.pop("arcface", None)
    for d in ("gt", "m"):
        (tmp_path / d).mkdir()
    os.symlink(media / "voxceleb2" / "00104.mp4", tmp_path / "gt" / "a.mp4")
    os.symlink(media / "voxceleb2" / "741400163.mp4", tmp_path / "m" / "a.mp4")  # same person, other video
    kw = dict(metrics="csim@insightface,csim@dlib", cache_dir=tmp_path / "cache", workers=1)
    res = evaluate(tmp_path / "gt", {"m": tmp_path / "m"}, out=tmp_path / "out1", **kw)
    row = next(r for r in res.rows if r.method == "m" and r.metric_key == "csim@insightface")
    assert row.status == "skipped" and "thgeval weights fetch arcface-w600k-r50" in row.reason
    (tmp_path / "home" / "weights").mkdir(parents=True)
    random_arcface_onnx(tmp_path / "home" / "weights" / "w600k_r50.onnx")
    res = evaluate(tmp_path / "gt", {"m": tmp_path / "m"}, out=tmp_path / "out1", **kw)
    rows = {(r.method, r.metric_key): r for r in res.rows}
    for method in ("m", "real"):
        r = rows[(method, "csim@insightface")]
        assert r.status == "ok" and -1 <= r.value <= 1 and r.n_frames > 100, (method, r.status, r.reason)
        assert r.extra.get("backend") == "arcface"
    assert rows[("m", "csim@dlib")].status == "ok"  # the dlib row was reused, not recomputed
    embed_mod._INSTANCES.pop("arcface", None)
