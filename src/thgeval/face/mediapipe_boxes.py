"""Face boxes from MediaPipe's BlazeFace short-range detector, the face crop of LatentSync's FVD.

bytedance/LatentSync ``eval/eval_fvd.py`` calls the legacy
``mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)``
(the short-range BlazeFace model) on each RGB frame and keeps the first detection. MediaPipe
1.x ships no ``solutions`` API and no model file, so thgeval runs the same model file
(``face_detection_short_range.tflite``, the one the legacy solution loads) through the Tasks
``FaceDetector`` with the same threshold; that API returns the box already in pixels
(relative coordinates × frame size, truncated). ``mediapipe`` is imported only here, lazily.
"""

from __future__ import annotations

import numpy as np

from ..errors import MetricSkipped

WEIGHTS = "mediapipe-face-short-range"


def mediapipe_face_boxes(frames: np.ndarray, model_path: str, min_confidence: float = 0.5) -> np.ndarray:
    """(T, 4) int pixel boxes (x, y, w, h) of the first face MediaPipe finds in each of T
    RGB uint8 frames. Raises :class:`MetricSkipped` when mediapipe is missing or a frame has no
    face (LatentSync raises ``RuntimeError("Face not detected")`` there)."""
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:
        raise MetricSkipped(f"mediapipe is not installed ({e}); `pip install mediapipe` to crop faces "
                            "with MediaPipe face detection as LatentSync does") from None
    opts = vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_path=str(model_path)),
                                      min_detection_confidence=min_confidence)
    boxes = np.empty((len(frames), 4), np.int64)
    with vision.FaceDetector.create_from_options(opts) as det:
        for i, frame in enumerate(frames):
            res = det.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame)))
            if not res.detections:
                raise MetricSkipped(f"no face detected in frame {i} of the FVD window (LatentSync stops there)")
            bb = res.detections[0].bounding_box  # the first face, as LatentSync
            boxes[i] = bb.origin_x, bb.origin_y, bb.width, bb.height
    return boxes
