"""Real frames from ../shared/media for the parity tests."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np


def decode(path: Path, n: int, step: int = 1) -> np.ndarray:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % step == 0:
                out.append(f.to_ndarray(format="rgb24"))
            if len(out) == n:
                break
    return np.stack(out)


def still(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return img if size is None else cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
