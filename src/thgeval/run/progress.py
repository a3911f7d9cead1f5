"""Where a run stands: clips done and failed, rate, time left."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RunProgress:
    """Handed to a run's ``progress`` callback after each clip finishes.

    ``done`` counts clips finished in this run (reused rows are not clips to do), ``failed``
    those with at least one failed row; ``rate`` is clips per second since the first job
    started and ``eta`` the seconds left at that rate (None before the first clip).
    """

    total: int
    done: int = 0
    failed: int = 0
    clip: str = ""
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        t = self.elapsed
        return self.done / t if self.done and t > 0 else 0.0

    @property
    def eta(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate else None

    def line(self) -> str:
        """``12/40 clips · 1 failed · 2.3 clips/s · ETA 0:12``"""
        parts = [f"{self.done}/{self.total} clips"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.rate:
            parts.append(f"{self.rate:.2f} clips/s" if self.rate < 10 else f"{self.rate:.0f} clips/s")
            parts.append(f"ETA {_clock(self.eta)}")
        return " · ".join(parts)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
