"""ArcFace identity embeddings through onnxruntime: the backend of ``csim@insightface``.

Reproduces what insightface's ``FaceAnalysis`` does after detection for its recognition
models (``ArcFaceONNX.get`` on ``face_align.norm_crop``): five points — here from dlib's 68
landmarks, as bilayer-model's CSIM takes them: eye centres (36–41, 42–47), nose tip (30),
mouth corners (48, 54) — similarity-aligned (Umeyama least squares, as scikit-image's
``SimilarityTransform.estimate``) onto the ArcFace 112×112 template, bilinear warp with a
black border, RGB, ``(x − 127.5) / 127.5``, NCHW float32, one batch per call. insightface
finds the five points with its SCRFD detector instead; that difference is the variant's note.

The model file is any insightface recognition ONNX with a 1×3×112×112 input (default
``w600k_r50.onnx`` of the ``buffalo_l`` pack, weights entry ``arcface-w600k-r50``). Needs
``onnxruntime`` (``pip install 'thgeval[arcface]'``).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from ..errors import MetricSkipped
from .align import ARCFACE_112, TEMPLATES, umeyama

WEIGHTS = "arcface-w600k-r50"
SIZE = 112
BATCH = 64


def arcface_crops(images: list[np.ndarray], landmarks: list[np.ndarray], size: int = SIZE) -> np.ndarray:
    """N×size×size×3 uint8 RGB crops aligned to the ArcFace template (insightface ``norm_crop``)."""
    dst = ARCFACE_112 * (size / 112.0)
    out = np.empty((len(images), size, size, 3), np.uint8)
    for i, (img, lm) in enumerate(zip(images, landmarks)):
        src = TEMPLATES["arcface"].from_landmarks(np.asarray(lm, np.float64))
        m = umeyama(src, dst)
        out[i] = cv2.warpAffine(np.ascontiguousarray(img), m, (size, size), borderValue=0.0)
    return out


class ArcFaceEmbedder:
    """An insightface recognition model (ONNX) on 5-point-aligned 112×112 crops."""

    name = "arcface"

    def __init__(self, path: str | Path | None = None, providers: list[str] | None = None):
        if importlib.util.find_spec("onnxruntime") is None:
            raise MetricSkipped("the ArcFace embedding needs onnxruntime: pip install 'thgeval[arcface]'")
        import onnxruntime as ort

        if path is None:
            from ..weights import locate

            path = locate(WEIGHTS)
        path = Path(path)
        opts = ort.SessionOptions()
        self.session = ort.InferenceSession(str(path), opts, providers=providers or ["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        if list(inp.shape[1:]) != [3, SIZE, SIZE]:
            raise MetricSkipped(f"{path.name}: input shape {inp.shape}, expected N×3×{SIZE}×{SIZE} (an ArcFace model)")
        self.input_name = inp.name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        self.key = f"arcface-onnx:{path.name}:{digest},norm_crop112"

    def embed(self, images: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(images), self.dim), np.float32)
        for a in range(0, len(images), BATCH):
            crops = arcface_crops(images[a:a + BATCH], landmarks[a:a + BATCH])
            x = ((crops.astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)
            out[a:a + len(crops)] = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})[0]
        return out
