"""What a fetch cost (requests, retries, 429s, pages, seconds), counted across threads."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class FetchStats:
    """What a fetch cost, for run metadata."""

    requests: int = 0  # HTTP attempts, retries included
    rate_limited: int = 0  # 429 answers
    server_errors: int = 0  # 5xx answers
    pages: int = 0
    objects: int = 0
    seconds: float = 0.0
    api_version: str | None = None  # the Stripe-Version the API answered with
    throttle_seconds: float = 0.0  # waited for the shared budget, summed over threads
    began: float = field(default_factory=time.perf_counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_response(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.rate_limited += status == 429
            self.server_errors += status >= 500

    def count_page(self, objects: int) -> None:
        with self._lock:
            self.pages += 1
            self.objects += objects

    def count_wait(self, seconds: float) -> None:
        with self._lock:
            self.throttle_seconds += seconds

    @property
    def requests_per_second(self) -> float:
        elapsed = self.seconds or (time.perf_counter() - self.began)
        return self.requests / elapsed if elapsed > 0 else 0.0

    def as_metadata(self) -> dict[str, int | float | str]:
        return {
            "api_requests": self.requests,
            "api_retries": max(self.requests - self.pages, 0),
            "api_rate_limited": self.rate_limited,
            "api_server_errors": self.server_errors,
            "api_requests_per_second": round(self.requests_per_second, 2),
            "pages": self.pages,
            "fetch_seconds": round(self.seconds, 3),
            "api_version": self.api_version or "(not stated)",
        }
