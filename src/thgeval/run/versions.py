"""Versions of everything that can move a number: the evaluation card's software part."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from .. import __version__

_DEPENDENCIES = ("numpy", "scipy", "av", "opencv-python-headless", "scikit-image", "torch")


def software_versions() -> dict:
    deps = {}
    for name in _DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import av

        deps["ffmpeg (in PyAV)"] = str(getattr(av, "ffmpeg_version_info", ""))
    except Exception:  # version reporting must never fail a run
        pass
    try:  # the SyncNet pipeline variants run the ffmpeg CLI where there is one
        from ..metrics.sync_pipeline import ffmpeg_cli

        cli = ffmpeg_cli()
        deps["ffmpeg (CLI on PATH)"] = cli[1] if cli else None
    except Exception:
        pass
    return {
        "thgeval": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": deps,
    }
