"""Intermediate results shared by the frame metrics fed the same chunk.

The run engine feeds every frame metric of a clip the same chunk objects, one chunk at a
time, and never modifies a chunk while it is being fed. Inside :func:`shared_chunk` a frame
function may memoise work on those objects with :func:`chunk_memo` — e.g. SSIM and MS-SSIM's
finest scale are the same statistics — so it is computed once. Outside a scope (a direct
library call, whose caller may reuse buffers) nothing is memoised.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator

_SCOPE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("thgeval_chunk_memo", default=None)


@contextmanager
def shared_chunk() -> Iterator[None]:
    """A scope in which :func:`chunk_memo` results are shared; threads started for it need a
    copy of the caller's context (``contextvars.copy_context().run``)."""
    token = _SCOPE.set({"lock": threading.Lock(), "entries": {}})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def chunk_memo(key: Hashable, arrays: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, computed once per scope for the same ``key`` and the same array objects.

    The entry holds the arrays, so their identities cannot be reused while it lives. A second
    caller asking while the first computes waits for its result (or its exception).
    """
    scope = _SCOPE.get()
    if scope is None:
        return compute()
    k = (key, tuple(id(a) for a in arrays))
    with scope["lock"]:
        entry = scope["entries"].get(k)
        owner = entry is None
        if owner:
            entry = scope["entries"][k] = (arrays, Future())
    future = entry[1]
    if owner:
        try:
            future.set_result(compute())
        except BaseException as e:
            future.set_exception(e)
            raise
    return future.result()
