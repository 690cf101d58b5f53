"""Request-level faults: latency, rate limiting (429), periodic server errors (500), and list
pages that break Stripe's list contract (an empty page saying `has_more`, objects whose
`created` lies outside the requested range)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import orjson

from stripe_assets_emulator.config import FaultConfig, RateLimit
from stripe_assets_emulator.errors import ApiError, rate_limited, server_error
from stripe_assets_emulator.rng import Purpose, unit


class TokenBucket:
    """`rate` tokens per second, holding at most one second's worth."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self._clock = clock
        self.updated = clock()

    def refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


class RateLimiter:
    """Like Stripe: a bucket per account (here: per API key) and one per endpoint of each
    account; a request needs a token from both."""

    def __init__(self, limit: RateLimit, clock=time.monotonic):
        self.limit = limit
        self._clock = clock
        self._accounts: dict[str, TokenBucket] = {}
        self._endpoints: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def allow(self, endpoint: str, account: str = "") -> bool:
        with self._lock:
            if account not in self._accounts:
                self._accounts[account] = TokenBucket(self.limit.global_rps, self._clock)
            buckets = [self._accounts[account]]
            if self.limit.per_endpoint_rps is not None:
                if (account, endpoint) not in self._endpoints:
                    self._endpoints[(account, endpoint)] = TokenBucket(self.limit.per_endpoint_rps, self._clock)
                buckets.append(self._endpoints[(account, endpoint)])
            for bucket in buckets:
                bucket.refill()
            if any(bucket.tokens < 1 for bucket in buckets):
                return False
            for bucket in buckets:
                bucket.tokens -= 1
            return True


class RequestFaults:
    """Applies the configured request faults: 429 (answered at once), then delay, then 500."""

    def __init__(self, seed: int, faults: FaultConfig, sleep=time.sleep):
        self.seed = seed
        self.faults = faults
        self.limiter = RateLimiter(faults.rate_limit) if faults.rate_limit else None
        self._sleep = sleep

    def delay_seconds(self, request_number: int) -> float:
        jitter = self.faults.latency_jitter_ms * unit(self.seed, Purpose.REQUEST, request_number)
        return (self.faults.latency_ms + jitter) / 1000.0

    def check(self, request_number: int, endpoint: str, account: str = "") -> ApiError | None:
        """Sleeps the configured latency, then says which error to answer, if any.

        The buckets are drawn when the request arrives, as Stripe's limiter does before
        doing the work; the latency is the time the work takes."""
        if self.limiter is not None and not self.limiter.allow(endpoint, account):
            delay = self.delay_seconds(request_number)
            if delay > 0:
                self._sleep(min(delay, 0.05))  # a 429 is answered fast
            return rate_limited()
        delay = self.delay_seconds(request_number)
        if delay > 0:
            self._sleep(delay)
        every = self.faults.error_every
        if every is not None and request_number % every == 0:
            return server_error()
        return None

    def empty_page(self, path: str, query_has_cursor: bool) -> bytes | None:
        """The body of an empty page saying `has_more`, for a list page after the first."""
        if not (self.faults.empty_pages and query_has_cursor):
            return None
        return orjson.dumps({"object": "list", "data": [], "has_more": True, "url": path})

    def outside_window(
        self, items: Sequence[bytes], numbers: Sequence[int], lo: int, hi: int, field: str = "created"
    ) -> list[bytes]:
        """`items` (served objects, `numbers` their stable object numbers) with every Nth one's
        creation time (`field`) moved outside [lo, hi): to year 9999, below zero, or to `hi` itself."""
        every = self.faults.outside_window_every
        if every is None:
            return list(items)
        moved = list(items)
        for i, number in enumerate(numbers):
            if number % every == every - 1:
                obj = orjson.loads(items[i])
                obj[field] = (253402300799, -1 - number % 1000, hi)[(number // every) % 3]
                moved[i] = orjson.dumps(obj)
        return moved
