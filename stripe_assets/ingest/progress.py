"""Progress lines of a long load: at most one every `every` seconds per resource, plus a last one."""

from __future__ import annotations

import time
from collections.abc import Callable

from stripe_assets.ingest.client import FetchStats


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class LoadProgress:
    def __init__(
        self,
        resource: str,
        windows_total: int,
        emit: Callable[[str], None] | None,
        *,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.resource = resource
        self.windows_total = windows_total
        self.emit = emit
        self.every = every
        self._clock = clock
        self.began = clock()
        self._last = self.began

    def update(self, windows_done: int, stats: FetchStats, remaining: float | None) -> None:
        """Logs a line if `every` seconds passed since the last one."""
        now = self._clock()
        if self.emit is None or now - self._last < self.every:
            return
        self._last = now
        elapsed = max(now - self.began, 1e-9)
        rate = stats.objects / elapsed
        eta = "unknown"
        if windows_done >= self.windows_total:
            eta = "0s"
        elif remaining is not None and rate > 0:
            eta = _duration(remaining / rate)
        self.emit(
            f"{self.resource}: {windows_done}/{self.windows_total} windows done, {stats.objects:,} objects, "
            f"{rate:,.0f} objects/s, {stats.requests / elapsed:.1f} requests/s, "
            f"{stats.rate_limited} rate limited (429), ETA {eta}"
        )

    def finish(self, stats: FetchStats) -> None:
        """The last line: what the whole load read and how fast."""
        if self.emit is None:
            return
        elapsed = max(self._clock() - self.began, 1e-9)
        self.emit(
            f"{self.resource}: {self.windows_total}/{self.windows_total} windows done, {stats.objects:,} objects "
            f"in {_duration(elapsed)} ({stats.objects / elapsed:,.0f} objects/s), {stats.requests} requests "
            f"({stats.requests / elapsed:.1f}/s), {stats.rate_limited} rate limited (429)"
        )
