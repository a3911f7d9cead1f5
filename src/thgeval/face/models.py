"""The built-in face models: dlib (``dlib-bin`` wheel) and the model files that ship in the
``face_recognition_models`` wheel, found without importing that package (it imports the
deprecated ``pkg_resources`` on import).

Models are loaded once per process (the 68-point predictor takes ~0.5 s to read) and kept
in a small per-process table: the only state of this module.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from ..errors import MetricSkipped

MODELS_PACKAGE = "face_recognition_models"
FILES = {
    "shape_predictor_68": "shape_predictor_68_face_landmarks.dat",
    "shape_predictor_5": "shape_predictor_5_face_landmarks.dat",
    "mmod": "mmod_human_face_detector.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
}
INSTALL_HINT = "pip install dlib-bin==20.0.1.post1 face_recognition_models==0.3.0"


class FaceModelsMissing(MetricSkipped):
    """dlib or the face model files are not installed; the message names the fix."""


def models_dir() -> Path:
    """The folder holding the ``.dat`` model files of ``face_recognition_models``."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None:
        raise FaceModelsMissing(f"the face models package is not installed: {INSTALL_HINT}")
    roots = list(spec.submodule_search_locations or [])
    if spec.origin:
        roots.append(str(Path(spec.origin).parent))
    for root in roots:
        d = Path(root) / "models"
        if d.is_dir():
            return d
    raise FaceModelsMissing(f"{MODELS_PACKAGE} has no models folder (looked in {', '.join(roots)}): {INSTALL_HINT}")


def model_path(name: str) -> Path:
    """Path of one built-in model file (``shape_predictor_68``, ``mmod``, ``resnet``, …)."""
    p = models_dir() / FILES[name]
    if not p.is_file():
        raise FaceModelsMissing(f"face model file {p} is missing: reinstall with {INSTALL_HINT}")
    return p


def dlib():
    try:
        import dlib as _dlib
    except ImportError:
        raise FaceModelsMissing(f"dlib is not installed: {INSTALL_HINT}") from None
    return _dlib


@lru_cache(maxsize=None)
def hog_detector():
    """dlib's frontal face detector: HOG features + 5 linear SVMs (Dalal-Triggs, King 2015)."""
    return dlib().get_frontal_face_detector()


@lru_cache(maxsize=None)
def cnn_detector():
    """dlib's MMOD CNN face detector (King 2015, max-margin object detection)."""
    return dlib().cnn_face_detection_model_v1(str(model_path("mmod")))


@lru_cache(maxsize=None)
def shape_predictor():
    """dlib's 68-point shape predictor (Kazemi & Sullivan 2014), trained on iBUG 300-W."""
    return dlib().shape_predictor(str(model_path("shape_predictor_68")))


@lru_cache(maxsize=None)
def resnet_embedder():
    """dlib's 128-d ResNet face descriptor (``dlib_face_recognition_resnet_model_v1``)."""
    return dlib().face_recognition_model_v1(str(model_path("resnet")))
