"""Pretrained weights some metrics need: a manifest (data), a verified store, and lookup.

Entries live in ``manifest.toml`` beside this file. Files are looked up in the offline
folder ``$THGEVAL_WEIGHTS_DIR`` (if set) and then in ``$THGEVAL_HOME/weights`` (default
``~/.cache/thgeval/weights``). Looking up never downloads; :func:`fetch` (the
``thgeval weights fetch NAME`` command) does, into a temporary file that becomes the file
only when complete and checksum-verified; :func:`verify` checks a present file.
"""

from __future__ import annotations

from .registry import (  # noqa: F401
    WeightsEntry,
    WeightsMissing,
    entries,
    find,
    get,
    home,
    locate,
    search_dirs,
)
from .fetch import (  # noqa: F401,E402
    Verified,
    WeightsChecksumError,
    WeightsDownloadError,
    fetch,
    recorded_sha256,
    sha256_file,
    store_dir,
    verify,
)
