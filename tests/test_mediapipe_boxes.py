"""``fvd@latentsync``'s face boxes: thgeval's MediaPipe Tasks path against LatentSync's legacy
``mp.solutions.face_detection`` call.

Golden values: bytedance/LatentSync commit a229c39 ``eval/eval_fvd.py`` ``FVD.detect_face``'s box
arithmetic (``FaceDetection(model_selection=0, min_detection_confidence=0.5).process(rgb)``, first
detection, ``int(relative · size)``) run outside the project on 2026-12-06 with mediapipe 0.10.21
(the last release with the legacy ``solutions`` API; numpy 1.26.4, its own opencv-contrib) on
frames 20–35 (the frames ``detect_video`` reads) of 11 clips of ``shared/media`` decoded with
``cv2.VideoCapture`` (/tmp/golden-mp ``legacy.py``). The same day thgeval's
:func:`mediapipe_face_boxes` ran under mediapipe 1.2.3 (Tasks ``FaceDetector`` only) with the model
file bundled in the 0.10.21 wheel (``mediapipe/modules/face_detection/face_detection_short_range.tflite``,
sha256 ``bbff11ce…b3eca8``, the file the legacy solution loads) (/tmp/golden-mp ``ours.py``):
all 176 boxes equal. Three clips are pinned here.

Tolerance reached: exact (integer pixel boxes). Runs only where ``mediapipe`` is installed and the
``mediapipe-face-short-range`` weights are present (neither is in the dev extra: mediapipe pins its own
OpenCV build).
"""

from __future__ import annotations

import numpy as np
import pytest

from thgeval.io import load_clip

GOLDEN = {
    "00002.mp4": [[60, 27, 121, 121], [58, 26, 121, 121], [57, 26, 123, 123], [56, 26, 124, 124], [58, 29, 125, 125], [55, 24, 129, 129], [54, 24, 131, 131], [53, 24, 131, 131], [51, 20, 136, 136], [47, 18, 140, 140], [48, 19, 140, 140], [48, 18, 142, 142], [45, 18, 140, 140], [48, 24, 135, 135], [50, 25, 136, 136], [46, 27, 138, 138]],
    "bbaf2n.mpg": [[88, 123, 132, 132], [90, 122, 130, 130], [92, 123, 127, 127], [92, 122, 127, 127], [91, 121, 128, 128], [89, 120, 131, 131], [87, 117, 134, 134], [88, 117, 132, 132], [89, 117, 132, 132], [88, 117, 131, 131], [88, 118, 131, 131], [88, 118, 131, 131], [87, 118, 132, 132], [88, 118, 132, 132], [87, 118, 132, 132], [86, 117, 134, 134]],
    "example.avi": [[40, 19, 141, 141], [41, 20, 140, 140], [41, 20, 140, 140], [42, 21, 139, 139], [41, 18, 142, 142], [40, 18, 142, 142], [41, 20, 141, 141], [43, 24, 136, 136], [42, 23, 137, 137], [41, 20, 139, 139], [42, 21, 138, 138], [43, 22, 137, 137], [43, 20, 139, 139], [42, 20, 137, 137], [43, 21, 136, 136], [43, 21, 135, 135]],
}


def test_tasks_boxes_equal_latentsyncs_legacy_solution(media):
    pytest.importorskip("mediapipe")
    from thgeval.face.mediapipe_boxes import WEIGHTS, mediapipe_face_boxes
    from thgeval.weights import locate
    from thgeval.weights.registry import WeightsMissing

    try:
        model = locate(WEIGHTS)
    except WeightsMissing as e:
        pytest.skip(f"no MediaPipe face model here: {e}")
    for name, boxes in GOLDEN.items():
        folder = "grid" if name.endswith(".mpg") else "syncnet" if name == "example.avi" else "voxceleb2"
        frames = load_clip(media / folder / name, audio=False).frames[20:36]
        assert mediapipe_face_boxes(frames, model).tolist() == boxes, name
