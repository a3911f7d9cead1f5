"""Faces: detection, tracking, 68 landmarks, identity embeddings, alignment; one cached
:class:`FaceTrack` per clip.

Built-in models are dlib's (``dlib-bin``) with the model files of the
``face_recognition_models`` wheel, so everything works offline.

Public API::

    FaceSettings, FaceTrack, FACE_VERSION
    analyze_frames(frames, settings=None) -> FaceTrack
    analyze_clip(path, *, frames=None, settings=None, cache_dir=None) -> FaceTrack
"""

from .analyze import analyze_frames  # noqa: F401
from .clip import analyze_clip  # noqa: F401
from .settings import FACE_VERSION, FaceSettings  # noqa: F401
from .track import N_LANDMARKS, FaceTrack, fill_gaps  # noqa: F401
