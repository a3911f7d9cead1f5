"""Shared fixtures: the real media folder and small clips made on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def pytest_collection_modifyitems(config, items):
    # In CI the real media are mandatory: a missing folder fails instead of skipping.
    if MEDIA.is_dir() or os.environ.get("THGEVAL_REQUIRE_MEDIA") != "1":
        return
    raise pytest.UsageError(f"THGEVAL_REQUIRE_MEDIA=1 but {MEDIA} is missing")


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.skip(f"real test media not found at {MEDIA} (they live in the project's shared/ folder)")
    return MEDIA


def moving_frames(n: int = 20, h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth moving pattern with texture, so every frame differs from its neighbours."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    import cv2

    tex = cv2.resize(base, (w + 16, h + 16), interpolation=cv2.INTER_CUBIC)
    out = []
    for t in range(n):
        dx = t % 16
        f = tex[4:4 + h, dx:dx + w] + 40 * np.sin((xx + 3 * t) / 7.0)[..., None]
        out.append(np.clip(f, 0, 255).astype(np.uint8))
    return np.stack(out)


@pytest.fixture
def frames() -> np.ndarray:
    return moving_frames()
