"""Request-level faults: latency, rate limiting (429) and periodic server errors (500)."""

from __future__ import annotations

import threading
import time

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
