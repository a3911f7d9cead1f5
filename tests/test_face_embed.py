"""Identity embeddings: the registry, defined results without a face, identity on real photos.

Acceptance (media): on ``stills/identity_pairs.csv`` every same-person pair has a higher
cosine similarity of dlib embeddings than every different-person pair, and among the
VoxCeleb2 clips the two known same-person pairs score above every other pair (that one is
in ``test_face_media.py``). Measured 2026-11-25: same-person pairs 0.954–0.999,
different-person pairs 0.816–0.855 (stills); VoxCeleb2 same-person 0.976 and 0.977, best
other pair 0.913 (mean embedding of 10 frames per clip).
"""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from thgeval.demo import portrait, portrait_clip
from thgeval.errors import ConfigError
from thgeval.face import (
    analyze_frames, cosine_similarity, embed_faces, embed_image, embedders, get_embedder,
    register_embedder,
)


class _Mean:
    """A toy backend: the mean colour around the nose tip (tests the interface only)."""

    name, dim, key = "mean", 3, "mean-colour"

    def embed(self, images, landmarks):
        return np.stack([im[int(lm[30, 1]) - 2:int(lm[30, 1]) + 3, int(lm[30, 0]) - 2:int(lm[30, 0]) + 3]
                         .reshape(-1, 3).mean(0) for im, lm in zip(images, landmarks)]).astype(np.float32)


def test_registry():
    assert "dlib" in embedders()
    register_embedder("toy-mean", _Mean)
    with pytest.raises(ConfigError):
        register_embedder("toy-mean", _Mean)
    register_embedder("toy-mean", _Mean, replace=True)
    assert get_embedder("toy-mean").dim == 3
    with pytest.raises(ConfigError, match="unknown face embedder"):
        get_embedder("arcfaec")
    frames = portrait_clip(4)
    t = analyze_frames(frames)
    e = embed_faces(frames, t, backend="toy-mean")
    assert e.shape == (4, 3) and np.isfinite(e).all()


def test_embed_faces_rows_and_invalid_frames():
    frames = portrait_clip(6)
    frames[4:] = 90
    t = analyze_frames(frames)
    e = embed_faces(frames, t, [0, 5, 1])
    assert e.shape == (3, 128) and e.dtype == np.float32
    assert np.isnan(e[1]).all() and np.isfinite(e[[0, 2]]).all()
    assert 1.0 < np.linalg.norm(e[0]) < 2.0  # dlib descriptors are not normalised (≈ 1.4)
    assert embed_faces(frames, t).shape == (4, 128)  # default: detected frames
    assert cosine_similarity(e[0], e[2]) > 0.98  # the same face a frame later


def test_embed_image():
    img = portrait()
    v = embed_image(img)
    assert v.shape == (128,)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    assert cosine_similarity(v, embed_image(grey)) > 0.95
    assert embed_image(np.full((200, 200, 3), 128, np.uint8)) is None


@pytest.mark.media
def test_identity_pairs_of_stills(media):
    rows = list(csv.DictReader(open(media / "identity_pairs.csv")))
    cache = {}

    def emb(name):
        if name not in cache:
            img = cv2.cvtColor(cv2.imread(str(media / name)), cv2.COLOR_BGR2RGB)
            cache[name] = embed_image(img)
            assert cache[name] is not None, name
        return cache[name]

    same = [cosine_similarity(emb(r["image_a"]), emb(r["image_b"])) for r in rows if r["same_person"] == "1"]
    diff = [cosine_similarity(emb(r["image_a"]), emb(r["image_b"])) for r in rows if r["same_person"] == "0"]
    assert len(same) >= 5 and len(diff) >= 3
    assert min(same) > max(diff)


@pytest.mark.media
def test_two_face_photo(media):
    img = cv2.cvtColor(cv2.imread(str(media / "stills/two_people_obama_biden.jpg")), cv2.COLOR_BGR2RGB)
    t = analyze_frames(img[None])
    assert t.n_faces[0] == 2 and t.valid[0]
    # the dominant (larger) face is Biden's, on the right
    biden = embed_image(cv2.cvtColor(cv2.imread(str(media / "stills/biden.jpg")), cv2.COLOR_BGR2RGB))
    obama = embed_image(cv2.cvtColor(cv2.imread(str(media / "stills/obama_portrait.jpg")), cv2.COLOR_BGR2RGB))
    v = embed_image(img)
    assert cosine_similarity(v, biden) > cosine_similarity(v, obama)
