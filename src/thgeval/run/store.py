"""The results store: one SQLite file per output folder (WAL), plus per-frame series.

A row is keyed by (method, clip, metric@variant) and remembers the ``input_key`` it was
computed from (content hashes, metric version, conform policy): an identical request
reuses it, anything that could move the number computes it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

STORE_NAME = "thgeval.sqlite"
SERIES_DIR = "series"
OK, SKIPPED, FAILED = "ok", "skipped", "failed"
SET_CLIP = "*"  # the clip name of a set-level metric's row (one per method)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    config TEXT NOT NULL,
    versions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    method TEXT NOT NULL,
    clip TEXT NOT NULL,
    metric TEXT NOT NULL,
    variant TEXT NOT NULL,
    metric_version TEXT NOT NULL,
    input_key TEXT NOT NULL,
    value REAL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'skipped', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    n_frames INTEGER NOT NULL DEFAULT 0,
    tool_version TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    created REAL NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (method, clip, metric, variant)
);
"""
# Columns added after the first release: (table, column, definition) for stores made before.
_MIGRATIONS = (("results", "extra", "TEXT NOT NULL DEFAULT '{}'"),)


@dataclass
class Row:
    """One (method, clip, metric@variant) result."""

    method: str
    clip: str
    metric: str
    variant: str
    metric_version: str
    input_key: str
    value: float | None
    status: str
    reason: str = ""
    notes: str = ""
    n_frames: int = 0
    tool_version: str = ""  # the thgeval that computed it (set when read from the store)
    extra: dict = field(default_factory=dict)  # JSON-able details: set sizes, offsets, counts

    @property
    def metric_key(self) -> str:
        return f"{self.metric}@{self.variant}"


def input_key(**parts) -> str:
    """A stable hash of whatever a number depends on."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


class Store:
    """Results of every run written into one output folder."""

    def __init__(self, out_dir: str | os.PathLike):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.dir / STORE_NAME, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for table, column, definition in _MIGRATIONS:
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                with self.db:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        self.db.close()

    # runs -------------------------------------------------------------------------------
    def start_run(self, config: dict, versions: dict) -> int:
        with self.db:
            cur = self.db.execute(
                "INSERT INTO runs (started, config, versions) VALUES (?, ?, ?)",
                (time.time(), json.dumps(config, sort_keys=True), json.dumps(versions, sort_keys=True)),
            )
        return int(cur.lastrowid)

    def finish_run(self, run_id: int) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET finished = ? WHERE run_id = ?", (time.time(), run_id))

    # content hashes -----------------------------------------------------------------------
    def sha256(self, path: str | os.PathLike) -> str:
        """Content hash of a file, remembered by (path, size, mtime) so it is read once."""
        p = Path(path).resolve()
        st = p.stat()
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM files WHERE path = ?", (str(p),)).fetchone()
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)",
                (str(p), st.st_size, st.st_mtime_ns, digest),
            )
        return digest

    # results ------------------------------------------------------------------------------
    def get(self, method: str, clip: str, metric: str, variant: str) -> Row | None:
        r = self.db.execute(
            "SELECT method, clip, metric, variant, metric_version, input_key, value, status, reason,"
            " notes, n_frames, tool_version, extra FROM results"
            " WHERE method=? AND clip=? AND metric=? AND variant=?",
            (method, clip, metric, variant),
        ).fetchone()
        if r is None:
            return None
        row = Row(*r[:-1], extra=json.loads(r[-1] or "{}"))
        if row.value is None and row.status == OK:
            row.value = float("nan")
        return row

    def put(self, rows: list[Row], run_id: int, tool_version: str) -> None:
        """Write a clip's rows in one transaction: a killed run loses no finished clip."""
        now = time.time()
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO results (method, clip, metric, variant, metric_version, input_key,"
                " value, status, reason, notes, n_frames, tool_version, run_id, created, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.method, r.clip, r.metric, r.variant, r.metric_version, r.input_key,
                     _sql_value(r.value), r.status, r.reason, r.notes, r.n_frames, tool_version, run_id, now,
                     json.dumps(r.extra, sort_keys=True, default=str))
                    for r in rows
                ],
            )

    # per-frame series ---------------------------------------------------------------------
    def series_path(self, method: str, clip: str) -> Path:
        return self.dir / SERIES_DIR / method / f"{clip}.npz"

    def put_series(self, method: str, clip: str, series: dict[str, np.ndarray]) -> None:
        """Merge per-frame arrays (one per metric@variant) into the clip's .npz, atomically."""
        if not series:
            return
        path = self.series_path(method, clip)
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = dict(load_series(path))
        merged.update({k: np.asarray(v, dtype=np.float32) for k, v in series.items()})
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **merged)
        os.replace(tmp, path)


def load_series(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Per-frame values of one clip, keyed by metric@variant (empty when absent)."""
    p = Path(path)
    if not p.exists():
        return {}
    with np.load(p) as z:
        return {k: z[k] for k in z.files}


def _sql_value(v):
    # SQLite stores inf as REAL fine; NaN becomes NULL.
    if v is None:
        return None
    v = float(v)
    return None if v != v else v


def row_dict(r: Row) -> dict:
    d = asdict(r)
    d.pop("input_key", None)
    return d
