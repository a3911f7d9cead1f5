"""Faces: detection, tracking, 68 landmarks, identity embeddings, alignment; one cached
:class:`FaceTrack` per clip.

Built-in models are dlib's (``dlib-bin``) with the model files of the
``face_recognition_models`` wheel (found without importing it), so everything works
offline. Layers: :mod:`.detect` (scans), :mod:`.analyze` (tracking, the dominant face),
:mod:`.clip` (files, cache), :mod:`.embed` (identity), :mod:`.align` (transforms, warps),
:mod:`.aligner` (aligned clips, ``thgeval align``).

Public API::

    FaceSettings, FaceTrack, FACE_VERSION
    analyze_frames(frames, settings=None) -> FaceTrack
    analyze_clip(path, *, frames=None, settings=None, cache_dir=None) -> FaceTrack
    embed_faces(frames, track, indices=None) -> (N, 128) ; embed_image(image) -> (128,) | None
    register_embedder(name, factory), get_embedder(name), cosine_similarity(a, b)
    similarity_transforms(track, size=256, template="face"), box_transforms(track, size=256, scale=0.4)
    warp_frames(frames, transforms, size), transform_points(points, transforms), TEMPLATES
    align_clip(path, out, *, gt=None, ...), align_clips(inputs, out_dir, *, gt=None, ...)
"""

from .align import (  # noqa: F401
    ARCFACE_112, TEMPLATES, NoFaceError, Template, box_transforms, similarity_transforms, transform_points,
    umeyama, warp_frames,
)
from .aligner import align_clip, align_clips, transforms_for  # noqa: F401
from .analyze import analyze_frames  # noqa: F401
from .clip import analyze_clip  # noqa: F401
from .embed import (  # noqa: F401
    cosine_similarity, embed_faces, embed_image, embedders, get_embedder, register_embedder,
)
from .models import FaceModelsMissing  # noqa: F401
from .settings import FACE_VERSION, FaceSettings  # noqa: F401
from .track import N_LANDMARKS, FaceTrack, fill_gaps  # noqa: F401
