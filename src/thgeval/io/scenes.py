"""Scene cuts as PySceneDetect 0.5's ``ContentDetector`` finds them.

syncnet_python's ``run_pipeline.py`` and LatentSync's ``syncnet_detect.py`` split a clip at
these cuts before tracking faces, so no face track crosses a cut and scenes shorter than the
minimum track are dropped. The rule (scenedetect 0.5.1, ``detectors/content_detector.py``,
``video_manager.py``, ``scene_manager.py``):

- frames are subsampled by an integer factor chosen from the width (``frame[::k, ::k]``;
  ``VideoManager.set_downscale_factor()`` with no argument);
- for each frame after the first, the mean absolute difference to the previous frame of each
  HSV channel (OpenCV ``COLOR_BGR2HSV`` on uint8: H in 0–179), averaged over the three;
- a cut at frame ``i`` when that average is ≥ ``threshold`` (30) and at least
  ``min_scene_len`` (15) frames have passed since the previous cut (the first cut may come at
  any frame);
- scenes run from cut to cut, the first from frame 0, the last to the frame count.
"""

from __future__ import annotations

import cv2
import numpy as np

# VideoManager's DEFAULT_DOWNSCALE_FACTORS: frame width at least → subsampling factor.
DOWNSCALE_BY_WIDTH = ((3200, 12), (2100, 8), (1700, 6), (1200, 5), (900, 4), (600, 3), (400, 2))


def downscale_factor(width: int) -> int:
    """PySceneDetect 0.5's automatic subsampling factor for a frame ``width`` pixels wide."""
    for w, k in DOWNSCALE_BY_WIDTH:
        if width >= w:
            return k
    return 1


class ContentCuts:
    """Streaming content-cut detector: feed frames in order (chunks of any size; RGB, or BGR
    with ``bgr=True``), read :attr:`cuts` (frame indices where a new scene starts) at the end."""

    def __init__(self, threshold: float = 30.0, min_scene_len: int = 15, downscale: int | None = None,
                 bgr: bool = False):
        self.threshold, self.min_scene_len, self.downscale = float(threshold), int(min_scene_len), downscale
        self.bgr = bgr
        self.cuts: list[int] = []
        self.frames = 0
        self._last: np.ndarray | None = None
        self.scores: list[float] = []  # the content value of every frame after the first

    def feed(self, frames: np.ndarray) -> None:
        for frame in frames:
            k = self.downscale or downscale_factor(frame.shape[1])
            small = np.ascontiguousarray(frame[::k, ::k] if self.bgr else frame[::k, ::k, ::-1])  # BGR, as OpenCV reads
            hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV).astype(np.int32)
            if self._last is not None:
                n = hsv.shape[0] * hsv.shape[1]
                per_channel = [np.sum(np.abs(hsv[..., c] - self._last[..., c])) / float(n) for c in range(3)]
                value = sum(per_channel) / 3.0
                self.scores.append(value)
                last_cut = self.cuts[-1] if self.cuts else None
                if value >= self.threshold and (last_cut is None or self.frames - last_cut >= self.min_scene_len):
                    self.cuts.append(self.frames)
            self._last = hsv
            self.frames += 1

    def scenes(self) -> list[tuple[int, int]]:
        """``(first, end)`` frame ranges (end exclusive) covering all frames fed."""
        bounds = [0, *self.cuts, self.frames]
        return [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def scene_ranges(frames: np.ndarray, threshold: float = 30.0, min_scene_len: int = 15,
                 downscale: int | None = None, bgr: bool = False) -> list[tuple[int, int]]:
    """Scenes of a clip (T×H×W×3 uint8 RGB, or BGR with ``bgr=True``) as ``(first, end)``
    frame ranges, end exclusive."""
    det = ContentCuts(threshold, min_scene_len, downscale, bgr)
    det.feed(frames)
    return det.scenes()
