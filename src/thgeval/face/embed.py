"""Identity embeddings of faces, with a small backend registry.

Built in: ``"dlib"``, dlib's 128-d ResNet face descriptor (``dlib_face_recognition_resnet
_model_v1``: a ResNet-34-like network trained by D. King on ~3 M faces, 99.38 % on LFW),
computed on the 150×150 face chip dlib aligns from the 68 landmarks (``padding`` 0.25,
no jitter). Descriptors are not normalised (Euclidean norm about 1.4 on the shared
photos); dlib's own rule calls two faces the same person below a Euclidean distance of 0.6.
Compare them with :func:`cosine_similarity` (CSIM) or that distance.

A backend is a factory returning an object with this interface::

    class Embedder:
        name: str            # registry name, shown in results
        dim: int             # length of one embedding
        key: str             # stable text naming the model (and weights sha256): cache keys
        def embed(self, images: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
            '''images[i]: H×W×3 uint8 RGB; landmarks[i]: (68, 2) float, dlib 68-point
            order, pixels of images[i]. Returns (N, dim) float32, one row per face.'''

Register it with ``register_embedder("arcface", factory)``; the factory runs once per
process, on first use, and may raise :class:`thgeval.errors.MetricSkipped` (missing
weights: :func:`thgeval.weights.locate` does that) so that metrics using it are skipped.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import ConfigError
from . import models
from .track import FaceTrack

DEFAULT_EMBEDDER = "dlib"
BATCH = 32  # faces per dlib batch call


class Embedder(Protocol):
    name: str
    dim: int
    key: str

    def embed(self, images: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray: ...


_FACTORIES: dict[str, Callable[[], Embedder]] = {}
_INSTANCES: dict[str, Embedder] = {}


def register_embedder(name: str, factory: Callable[[], Embedder], *, replace: bool = False) -> None:
    """Make an identity-embedding backend available under ``name`` (see module docs)."""
    if name in _FACTORIES and not replace:
        raise ConfigError(f"face embedder {name!r} is already registered")
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def embedders() -> list[str]:
    """Names of the registered embedding backends."""
    return sorted(_FACTORIES)


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The backend ``name``, created on first use (once per process)."""
    if name not in _FACTORIES:
        raise ConfigError(f"unknown face embedder {name!r}; known: {', '.join(embedders())}")
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


class DlibEmbedder:
    """dlib's 128-d ResNet face descriptor on 68-landmark-aligned 150×150 chips."""

    name = "dlib"
    dim = 128
    key = "dlib_face_recognition_resnet_model_v1,padding=0.25,jitter=0"

    def __init__(self):
        self.net = models.resnet_embedder()
        self.dlib = models.dlib()

    def _shape(self, points: np.ndarray):
        d = self.dlib
        pts = d.points()
        for x, y in np.rint(points).astype(np.int64):
            pts.append(d.point(int(x), int(y)))
        x0, y0 = np.floor(points.min(0)).astype(int)
        x1, y1 = np.ceil(points.max(0)).astype(int)
        return d.full_object_detection(d.rectangle(int(x0), int(y0), int(x1), int(y1)), pts)

    def embed(self, images: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(images), self.dim), np.float32)
        for a in range(0, len(images), BATCH):
            imgs = [np.ascontiguousarray(im) for im in images[a:a + BATCH]]
            faces = []
            for lm in landmarks[a:a + BATCH]:
                dets = self.dlib.full_object_detections()
                dets.append(self._shape(np.asarray(lm, np.float64)))
                faces.append(dets)
            vecs = self.net.compute_face_descriptor(imgs, faces, 0, 0.25)
            for i, v in enumerate(vecs):
                out[a + i] = np.asarray(v[0], np.float32)
        return out


register_embedder("dlib", DlibEmbedder)


def _arcface():
    from .arcface import ArcFaceEmbedder

    return ArcFaceEmbedder()


register_embedder("arcface", _arcface)


def embed_faces(frames, track: FaceTrack, indices: Sequence[int] | None = None, *,
                backend: str = DEFAULT_EMBEDDER) -> np.ndarray:
    """Identity embeddings of the tracked face in frames of a clip.

    Parameters
    ----------
    frames : the frames the track was computed on (T×H×W×3 uint8 RGB, or anything indexable
        by frame number giving such frames).
    track : their :class:`FaceTrack`.
    indices : frames to embed; default every frame where the face was detected (valid and
        not interpolated). An index whose frame has no valid face gives a row of NaN.
    backend : a registered embedder (``"dlib"`` built in).

    Returns
    -------
    (N, D) float32, one row per index (D = 128 for dlib).
    """
    emb = get_embedder(backend)
    if indices is None:
        indices = np.flatnonzero(track.valid & ~track.interpolated)
    indices = np.asarray(indices, np.int64).reshape(-1)
    out = np.full((len(indices), emb.dim), np.nan, np.float32)
    ok = [i for i, t in enumerate(indices) if track.valid[t]]
    if ok:
        imgs = [_rgb3(frames[int(indices[i])]) for i in ok]
        lms = [track.landmarks[int(indices[i])] for i in ok]
        out[ok] = emb.embed(imgs, lms)
    return out


def embed_image(image: np.ndarray, *, backend: str = DEFAULT_EMBEDDER, settings=None) -> np.ndarray | None:
    """Identity embedding of the dominant face of a still image, or None without a face.

    ``image`` is H×W×3 uint8 RGB (or H×W grey); the face is found as in a one-frame clip
    (see :func:`thgeval.face.analyze_frames`), so large photos are scanned shrunk and
    small faces enlarged.
    """
    from .analyze import analyze_frames

    img = _rgb3(image)
    track = analyze_frames(img[None], settings)
    if not track.valid[0]:
        return None
    return embed_faces(img[None], track, [0], backend=backend)[0]


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of embeddings ``a`` (…, D) and ``b`` (…, D), in −1…1."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    num = (a * b).sum(-1)
    return num / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)


def _rgb3(img) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img)
