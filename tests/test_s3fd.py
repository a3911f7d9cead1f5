"""S3FD parity with the reference detector (joonson/syncnet_python ``detectors/s3fd``, as
shipped in syncnet-python 0.2.3: ``nets.py`` is the repository's commit 6efbb1c up to code
formatting, ``detect_faces`` the same steps), both sides loading the same random state dict
from :mod:`_s3fd_util` (the face logit of the conv4_3 head raised by 4 on both sides, so
that boxes pass the 0.9 threshold; random features give no face otherwise).

Tolerances reached (CPU, float32): network outputs (box offsets and softmax) bit-equal;
detections on real frames: same boxes in the same order, corners within 1e-4 px (the
decode runs in NumPy float32; differences are float32 rounding), scores equal.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")
av = pytest.importorskip("av")

from _s3fd_util import s3fd_state, save_s3fd  # noqa: E402
from thgeval.nets.s3fd import S3FD, S3FDNet, nms, priors  # noqa: E402


def _reference():
    """The reference's ``detectors.s3fd`` package, loaded from its files (the package's own
    ``__init__`` needs dependencies the project does not have)."""
    spec = importlib.util.find_spec("syncnet_python")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("reference not installed: pip install --no-deps syncnet-python==0.2.3")
    d = Path(list(spec.submodule_search_locations)[0]) / "detectors" / "s3fd"
    name = "_ref_s3fd"
    if name not in sys.modules:
        s = importlib.util.spec_from_file_location(name, d / "__init__.py", submodule_search_locations=[str(d)])
        mod = importlib.util.module_from_spec(s)
        sys.modules[name] = mod
        s.loader.exec_module(mod)
    return sys.modules[name], sys.modules[name + ".nets"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return save_s3fd(s3fd_state(), tmp_path_factory.mktemp("w") / "sfd_face.pth")


@pytest.fixture(scope="module")
def pair(weights):
    ref_pkg, ref_nets = _reference()
    net = ref_nets.S3FDNet(device="cpu")
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    ref = ref_pkg.S3FD(net, device="cpu")
    captured = {}
    detect = net.detect.forward

    def spy(loc, conf, pri):  # the raw outputs the reference's Detect receives
        captured.update(loc=loc[0].numpy().copy(), conf=conf[0].numpy().copy(), pri=pri.numpy().copy())
        return detect(loc, conf, pri)

    net.detect.forward = spy
    return S3FD(weights), ref, captured


def _frame(path, index=0):
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == index:
                return f.to_ndarray(format="rgb24")


def test_state_dict_layout_is_the_reference_one():
    _, ref_nets = _reference()
    ours = {k: tuple(v.shape) for k, v in S3FDNet().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in ref_nets.S3FDNet(device="cpu").state_dict().items()}
    assert ours == theirs


@pytest.mark.parametrize("clip,index,scale", [("syncnet/example.avi", 0, 0.25), ("syncnet/example.avi", 200, 0.25),
                                               ("grid/pwij3p.mpg", 30, 0.25)])
def test_detections_equal_reference(pair, media, clip, index, scale):
    ours, ref, captured = pair
    frame = _frame(media / clip, index)
    want = ref.detect_faces(frame, conf_th=0.9, scales=[scale])
    got = ours.detect(frame, conf_th=0.9, scale=scale)
    _, loc, conf, shapes = ours.raw(frame, scale)
    assert np.array_equal(loc, captured["loc"]) and np.array_equal(conf, captured["conf"])
    h, w = frame.shape[:2]
    hw = (round(h * scale), round(w * scale))
    np.testing.assert_array_equal(priors(hw, shapes), captured["pri"])
    assert len(want) >= 2  # the biased weights make faces; the test would be empty otherwise
    assert got.shape == want.shape
    np.testing.assert_allclose(got[:, :4], want[:, :4], rtol=0, atol=1e-4 * max(1.0, np.abs(want[:, :4]).max() / 100))
    np.testing.assert_allclose(got[:, 4], want[:, 4], rtol=0, atol=1e-7)


def test_no_face_gives_empty(pair):
    ours, _, _ = pair
    # a softmax score never exceeds 1
    assert ours.detect(np.zeros((64, 64, 3), np.uint8), conf_th=1.0).shape == (0, 5)


def test_nms_is_greedy_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.7]), 0.1).tolist() == [1, 2]
