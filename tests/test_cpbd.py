"""CPBD: parity with the `cpbd` package (the reference) on real frames.

Reached: equal to the reference to 1e-15 (the same edges, widths and histogram; only the
last bit of the final division can differ) on 24 real frames from 144×176 to 512×512.
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.metrics import cpbd
from thgeval.metrics.sharpness import canny, luma_pil

from _frames_util import decode, still


@pytest.fixture(scope="module")
def real_frames(media):
    frames = []
    for path, n, step in [("grid/bbaf2n.mpg", 4, 18), ("grid/swiz3n.mpg", 3, 20), ("voxceleb2/00002.mp4", 4, 25),
                          ("voxceleb2/796100172.mp4", 3, 30), ("carphone/pristine.mp4", 3, 40),
                          ("carphone/distorted.mp4", 3, 40), ("syncnet/example.avi", 2, 100)]:
        frames += list(decode(media / path, n, step))
    frames.append(still(media / "stills" / "obama_portrait.jpg", (512, 512)))
    frames.append(still(media / "stills" / "kit_harington_1.jpeg", (300, 420)))
    return frames


@pytest.mark.media
def test_luma_equals_pil(real_frames):
    Image = pytest.importorskip("PIL.Image")
    for f in real_frames[::3]:
        assert np.array_equal(luma_pil(f), np.asarray(Image.fromarray(f).convert("L")))


@pytest.mark.media
def test_cpbd_equals_reference(real_frames):
    ref = pytest.importorskip("cpbd")
    Image = pytest.importorskip("PIL.Image")
    assert len(real_frames) >= 20
    diffs = []
    for f in real_frames:
        expected = ref.compute(np.asarray(Image.fromarray(f).convert("L")))
        diffs.append(abs(cpbd(f) - expected))
    assert max(diffs) < 1e-12, max(diffs)  # the issue asks 1e-3


@pytest.mark.media
def test_canny_equals_skimage(real_frames):
    feature = pytest.importorskip("skimage.feature")
    for f in real_frames[::4]:
        g = luma_pil(f).astype(np.float64)
        assert np.array_equal(canny(g), feature.canny(g))


@pytest.mark.media
def test_blur_lowers_cpbd(real_frames):
    import cv2

    f = real_frames[0]
    values = [cpbd(f)] + [cpbd(cv2.GaussianBlur(f, (0, 0), s)) for s in (0.8, 1.5, 3.0)]
    assert all(a > b for a, b in zip(values, values[1:])), values


def test_batch_equals_frames_and_edge_cases(frames):
    big = np.repeat(np.repeat(frames[:3], 2, axis=1), 2, axis=2)  # 128×160: two full blocks
    assert np.array_equal(cpbd(big), np.array([cpbd(f) for f in big]))
    assert cpbd(np.full((128, 128, 3), 90, np.uint8)) == 0.0  # no edges
    assert cpbd(np.zeros((40, 40, 3), np.uint8)) == 0.0  # no full 64×64 block
    assert cpbd(big[0, :, :, 1]) == cpbd(big[0, :, :, 1:2])  # grey (H, W) and (H, W, 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cpbd(big[0] / 255.0)
