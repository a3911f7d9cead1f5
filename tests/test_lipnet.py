"""LipNet parity with the PyTorch reference on shared random weights.

Golden values: the reference network (VIPL-Audio-Visual-Speech-Understanding/LipNet-PyTorch,
commit 40209e09c49553c00c25c7d41faa3706aea3c625, ``model.py``; decoding with ``dataset.py``'s
``MyDataset.ctc_arr2txt(path, start=1)``) was run outside the project on 2026-11-25 with torch
2.14.1 (CPU): ``python run_golden.py`` in a folder holding the reference's model.py, dataset.py
and cvtransforms.py, after loading the weights of ``shared_weights`` below (numpy
default_rng(20261101), keys in sorted order) and the input of ``shared_input`` in eval mode.
Tolerance reached: 1e-6 on every pinned score (float32 network); decoded texts identical.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from thgeval.nets.lipnet import LipNet, ctc_greedy, feature_size, load_lipnet  # noqa: E402

SEED = 20261101
GOLDEN = {
    "shape": (2, 12, 28),
    "sum": -3.111463268753141,
    "abs_sum": 181.36423845915124,
    "first": [0.003922, 0.021061, 0.042799, 0.194832, 0.010974, 0.348762, 0.40856, -0.268764, -0.125668, 0.255325,
              0.103224, -0.100439, 0.214939, -0.13757, -0.394522, -0.441205, -0.380386, -0.284689, -0.115566,
              -0.177224, 0.025889, -0.153519, 0.157461, 0.620598, 0.060011, 0.260425, 0.353943, -0.050318],
    "last": [-0.458721, 0.225374, -0.06925, 0.266551, -0.580098, 0.17562, 0.063914, 0.090634, 0.21928, 0.078743,
             0.422572, 0.198214, 0.241528, -0.06175, -0.631374, -0.240966, -0.056122, 0.186112, 0.040328, -0.064744,
             -0.294373, 0.1209, -0.039629, 0.047496, -0.053914, 0.266445, 0.247309, -0.320351],
    "paths": [[23, 23, 23, 23, 23, 5, 5, 5, 5, 12, 3, 10], [23, 23, 23, 23, 23, 23, 5, 12, 12, 12, 10, 10]],
    "texts": ["VDKBI", "VDKI"],
}


def shared_weights(state):
    rng = np.random.default_rng(SEED)
    out = {}
    for k in sorted(state):
        shape = tuple(state[k].shape)
        if k.endswith("weight") or "weight_" in k:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            out[k] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        else:
            out[k] = (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return out


def shared_input():
    rng = np.random.default_rng(SEED + 1)
    return rng.random((2, 3, 12, 64, 128)).astype(np.float32)


def test_parity_with_reference(tmp_path):
    model = LipNet((128, 64))
    state = {k: torch.from_numpy(v) for k, v in shared_weights(model.state_dict()).items()}
    path = tmp_path / "lipnet_random.pt"
    torch.save(state, path)
    model = load_lipnet(path, (128, 64))
    with torch.no_grad():
        y = model(torch.from_numpy(shared_input())).numpy().astype(np.float64)
    assert y.shape == GOLDEN["shape"]
    np.testing.assert_allclose(y[0, 0], GOLDEN["first"], atol=1e-6)
    np.testing.assert_allclose(y[1, -1], GOLDEN["last"], atol=1e-6)
    assert y.sum() == pytest.approx(GOLDEN["sum"], abs=1e-4)
    assert np.abs(y).sum() == pytest.approx(GOLDEN["abs_sum"], rel=1e-6)
    assert y.argmax(-1).tolist() == GOLDEN["paths"]
    assert [ctc_greedy(y[b]) for b in range(2)] == GOLDEN["texts"]


def test_ctc_greedy_rules():
    def onehot(path, c=28):
        return np.eye(c)[path]

    # blank 0, space 1, A 2 …: repeats merge, a blank separates repeats, spaces merge, ends stripped
    assert ctc_greedy(onehot([1, 3, 3, 0, 3, 1, 1, 0, 1, 4, 1])) == "BB C"
    assert ctc_greedy(onehot([0, 0, 0])) == ""
    # a blank-last alphabet (rizkiarm/LipNet's Keras model: a…z, space, blank 27)
    assert ctc_greedy(onehot([0, 27, 0, 26, 1]), letters="abcdefghijklmnopqrstuvwxyz ", blank=27) == "aa b"


def test_crop_sizes():
    assert feature_size(128, 64) == 96 * 4 * 8  # the reference's GRU input
    assert feature_size(100, 50) == 96 * 3 * 6  # the paper's 100×50 crop
    m = LipNet((100, 50)).eval()
    with torch.no_grad():
        y = m(torch.rand(1, 3, 5, 50, 100))
        f = m.features(torch.rand(1, 3, 5, 50, 100))
    assert y.shape == (1, 5, 28) and f.shape == (1, 5, 512)
    with pytest.raises(ValueError, match="100×50"):
        m(torch.rand(1, 3, 5, 64, 128))
