"""Downloading and checking weights files.

A download streams into a temporary file inside the store (``home()/weights``), hashing as
it goes; it becomes the real file (an atomic rename) only when every byte announced by the
server arrived, the size matches the manifest where it states one, and the SHA-256 matches
the published checksum or, for an entry without one, the checksum recorded at the first
download in ``home()/weights/checksums.json`` (the lock file). Nothing here runs unless a
command or an explicit call asks for it.

URL override (tests, mirrors, offline caches): the ``url`` argument, else
``$THGEVAL_WEIGHTS_URL_<NAME>`` (the name upper-cased, e.g. ``THGEVAL_WEIGHTS_URL_SYNCNET_V2``)
for one file, else ``$THGEVAL_WEIGHTS_MIRROR`` as a base URL joined with the file name,
else the manifest's URLs in order.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ThgevalError
from .registry import WeightsEntry, find, get, home

LOCK_NAME = "checksums.json"
CHUNK = 1 << 20
Progress = Callable[[int, "int | None"], None]  # (bytes done, bytes total or None)

# verify() statuses
OK, UNPINNED, MISMATCH, MISSING = "ok", "unpinned", "mismatch", "missing"


class WeightsDownloadError(ThgevalError):
    """A download failed or arrived incomplete; nothing was written in place of the file."""


class WeightsChecksumError(ThgevalError):
    """A downloaded or present file does not match its checksum or size."""


def store_dir() -> Path:
    """Where downloads go: ``$THGEVAL_HOME/weights``."""
    return home() / "weights"


def lock_path() -> Path:
    return store_dir() / LOCK_NAME


def _read_lock() -> dict[str, dict]:
    p = lock_path()
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise ThgevalError(f"{p}: unreadable checksum lock file ({e}); delete it to start again") from None


def _write_lock(doc: dict) -> None:
    p = lock_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".checksums.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, p)


def recorded_sha256(name: str) -> str | None:
    """The checksum the first download of an unpinned entry recorded, or None."""
    rec = _read_lock().get(name)
    return rec.get("sha256") if rec else None


def expected_sha256(entry: WeightsEntry) -> tuple[str | None, bool]:
    """``(sha256, pinned)``: the published checksum, else the recorded one (pinned False)."""
    if entry.sha256:
        return entry.sha256.lower(), True
    return recorded_sha256(entry.name), False


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def candidate_urls(entry: WeightsEntry, url: str | None = None) -> list[str]:
    """URLs tried in order (see the module docstring for the overrides)."""
    if url:
        return [url]
    one = os.environ.get("THGEVAL_WEIGHTS_URL_" + re.sub(r"[^A-Z0-9]", "_", entry.name.upper()))
    if one:
        return [one]
    mirror = os.environ.get("THGEVAL_WEIGHTS_MIRROR")
    if mirror:
        return [mirror.rstrip("/") + "/" + entry.filename]
    return list(entry.urls)


@dataclass(frozen=True)
class Verified:
    """What :func:`verify` found for one entry."""

    name: str
    status: str  # ok | unpinned | mismatch | missing
    path: Path | None
    sha256: str | None
    expected: str | None
    message: str

    @property
    def good(self) -> bool:
        return self.status in (OK, UNPINNED)


def verify(name: str) -> Verified:
    """Check the present file of ``name`` against its checksum and size.

    ``ok``: matches the published sha256. ``unpinned``: no checksum is published; the file
    matches the one recorded at its first download (or none was recorded: then this call
    records it). ``mismatch``: wrong size or checksum (truncated or corrupt; the message
    names the fix). ``missing``: no file.
    """
    entry = get(name)
    path = find(name)
    if path is None:
        return Verified(name, MISSING, None, None, None,
                        f"{entry.filename} not present: run `{entry.fetch_command}`")
    fix = f"delete {path} and run `{entry.fetch_command}`"
    if entry.size is not None and path.stat().st_size != entry.size:
        return Verified(name, MISMATCH, path, None, entry.sha256,
                        f"{path}: {path.stat().st_size} bytes, expected {entry.size} (truncated or corrupt): {fix}")
    digest = sha256_file(path)
    want, pinned = expected_sha256(entry)
    if want is None:  # unpinned and never recorded (placed by hand): record it now
        _record(entry, digest, path.stat().st_size, source=f"file {path}")
        return Verified(name, UNPINNED, path, digest, None,
                        f"unpinned: no published checksum; recorded sha256 {digest[:16]}… of the present file")
    if digest != want:
        what = "published" if pinned else "recorded at its first download"
        return Verified(name, MISMATCH, path, digest, want,
                        f"{path}: sha256 {digest[:16]}… differs from the {what} {want[:16]}… (corrupt or replaced): {fix}")
    if not pinned:
        return Verified(name, UNPINNED, path, digest, want,
                        "unpinned: no published checksum; matches the sha256 recorded at its first download")
    return Verified(name, OK, path, digest, want, "sha256 matches the published checksum")


def _record(entry: WeightsEntry, digest: str, size: int, source: str) -> None:
    doc = _read_lock()
    doc[entry.name] = {"filename": entry.filename, "sha256": digest, "size": size, "source": source}
    _write_lock(doc)


def fetch(name: str, *, url: str | None = None, progress: Progress | None = None,
          force: bool = False, timeout: float = 60.0) -> Path:
    """Download ``name`` into the store and return its path.

    A present file that verifies is kept (``force`` downloads again); a present file that
    fails verification is replaced. Raises :class:`WeightsDownloadError` when no URL gives
    a complete transfer, :class:`WeightsChecksumError` when the bytes do not match.
    """
    entry = get(name)
    present = find(name)
    if present is not None and not force:
        v = verify(name)
        if v.good:
            return present
    dest_dir = store_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for u in candidate_urls(entry, url):
        try:
            return _download(entry, u, dest_dir, progress, timeout)
        except WeightsChecksumError:
            raise  # the server gave the wrong file: another mirror is not tried silently
        except WeightsDownloadError as e:
            errors.append(str(e))
    raise WeightsDownloadError(
        f"could not download {entry.name}: " + "; ".join(errors)
        + f". Check the network and run `{entry.fetch_command}` again, or place {entry.filename} in $THGEVAL_WEIGHTS_DIR"
    )


def _extract_member(archive: Path, entry: WeightsEntry, url: str):
    """Replace the downloaded zip at ``archive`` by its member ``entry.archive_member`` (in place,
    still a temporary file); returns the member's size and sha256 state."""
    import zipfile

    try:
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if n == entry.archive_member or n.endswith("/" + entry.archive_member)]
            if not names:
                raise WeightsDownloadError(f"{url}: the archive holds no {entry.archive_member}")
            data = z.read(names[0])
    except zipfile.BadZipFile:
        raise WeightsDownloadError(f"{url}: not a readable zip archive (damaged or not the expected file)") from None
    archive.write_bytes(data)
    return len(data), hashlib.sha256(data)


def _download(entry: WeightsEntry, url: str, dest_dir: Path, progress: Progress | None, timeout: float) -> Path:
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{entry.filename}.", suffix=".part")
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                req = urllib.request.Request(url, headers={"User-Agent": "thgeval"})
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    announced = resp.headers.get("Content-Length")
                    total = int(announced) if announced is not None else entry.size
                    if progress:
                        progress(0, total)
                    while True:
                        block = resp.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        h.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except http.client.IncompleteRead:
                raise WeightsDownloadError(f"{url}: transfer interrupted after {done} bytes") from None
            except urllib.error.HTTPError as e:
                raise WeightsDownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                raise WeightsDownloadError(f"{url}: {getattr(e, 'reason', e)} (after {done} bytes)") from None
        if announced is not None and done != int(announced):
            raise WeightsDownloadError(f"{url}: transfer interrupted: {done} of {announced} bytes arrived")
        if entry.archive_member:
            done, h = _extract_member(tmp, entry, url)
        if entry.size is not None and done != entry.size:
            raise WeightsChecksumError(
                f"{url}: {done} bytes, the manifest says {entry.size} (wrong or truncated file); "
                f"nothing was saved. Try `{entry.fetch_command}` again or another mirror (THGEVAL_WEIGHTS_MIRROR)")
        digest = h.hexdigest()
        want, pinned = expected_sha256(entry)
        if want is not None and digest != want:
            what = "published checksum" if pinned else "checksum recorded at the first download"
            raise WeightsChecksumError(
                f"{url}: sha256 {digest[:16]}… does not match the {what} {want[:16]}…; nothing was saved. "
                f"Try `{entry.fetch_command}` again later or from another mirror (THGEVAL_WEIGHTS_MIRROR)")
        final = dest_dir / entry.filename
        os.replace(tmp, final)
        if want is None:
            _record(entry, digest, done, source=url)
        return final
    finally:
        if tmp.exists():
            tmp.unlink()
