"""Scene cuts: golden values of PySceneDetect 0.5.1's ``ContentDetector`` (the version
syncnet_python pins; LatentSync's ``syncnet_detect.py`` uses the same API).

Provenance: run 2026-12-06 outside the project (/tmp/golden-scenes ``golden.py``; Python 3.11,
OpenCV 5.0.0, numpy 2.4.6) with scenedetect 0.5.1 from PyPI, unmodified: for each frame of
:func:`sequence` (built by the same code), ``ContentDetector().process_frame(i, frame)`` on the
BGR frame subsampled as ``VideoManager.read`` does (``frame[::k, ::k]``, ``k =
compute_downscale_factor(width)``), a ``StatsManager`` attached to record each frame's
``content_val``; scenes from ``get_scenes_from_cuts``. (Decoding is not part of the
comparison: both sides get the same frames.)

Tolerance reached: cut lists and scenes equal; content values equal bit for bit (asserted 1e-12).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from thgeval.io import load_clip
from thgeval.io.scenes import ContentCuts, downscale_factor, scene_ranges

GOLDEN = {  # scale: (downscale factor, cuts, content_val at frames 40, 50, 80, sum over all frames)
    1: (1, [40, 80], (72.64316165123456, 60.505208333333336, 51.772566229423866, 354.25172325102886)),
    2: (3, [40, 80], (72.54266493055556, 60.36796875000001, 51.694914641203695, 344.8793981481482)),
}


def sequence(media, scale=1):
    """40 GRID frames, a 10-frame VoxCeleb2 shot (too short to end a scene: its end is no cut),
    30 frames of another GRID speaker, then the first speaker again."""
    a = load_clip(media / "grid" / "bbaf2n.mpg", audio=False).frames
    b = load_clip(media / "voxceleb2" / "00104.mp4", audio=False).frames
    c = load_clip(media / "grid" / "lbax4n.mpg", audio=False).frames
    h, w = a.shape[1:3]
    b = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in b[:10]])
    seq = np.concatenate([a[:40], b, c[:30], a[40:75]])
    if scale != 1:
        seq = np.stack([cv2.resize(f, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR) for f in seq])
    return seq


@pytest.mark.parametrize("scale", [1, 2])
def test_content_cuts_equal_pyscenedetect(media, scale):
    k, cuts, (v40, v50, v80, total) = GOLDEN[scale]
    rgb = sequence(media, scale)
    assert downscale_factor(rgb.shape[2]) == k
    det = ContentCuts()
    det.feed(rgb[:33])  # chunks of any size give the same result
    det.feed(rgb[33:])
    assert det.cuts == cuts
    assert det.scenes() == [(0, 40), (40, 80), (80, len(rgb))]
    scores = np.array(det.scores)  # scores[i - 1] is frame i's
    assert np.allclose(scores[[39, 49, 79]], [v40, v50, v80], rtol=0, atol=1e-12)
    assert abs(scores.sum() - total) < 1e-9


def test_rules():
    flat = np.zeros((40, 64, 80, 3), np.uint8)
    assert scene_ranges(flat) == [(0, 40)]  # no cut: one scene
    flip = flat.copy()
    flip[3:] = 255  # a cut at frame 3 (the first cut may come early) ...
    flip[10:] = 0  # ... suppresses one 7 frames later (min_scene_len 15)
    flip[25:] = 255
    assert scene_ranges(flip) == [(0, 3), (3, 25), (25, 40)]
    assert scene_ranges(flip, min_scene_len=5) == [(0, 3), (3, 10), (10, 25), (25, 40)]
    assert [downscale_factor(w) for w in (224, 399, 400, 640, 1280, 1920, 3840)] == [1, 1, 2, 3, 5, 6, 12]
