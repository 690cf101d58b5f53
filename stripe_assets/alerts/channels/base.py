"""What every channel shares: the sender interface, delivery errors and bounded retries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from stripe_assets.alerts.alert import Alert


class DeliveryError(Exception):
    """A delivery that did not reach its channel; `unreachable` marks the channel itself as down."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        unreachable: bool,
        out_of_time: bool = False,
        retry_in: float | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.unreachable = unreachable
        self.out_of_time = out_of_time  # the batch's time ran out, not the channel's chances
        self.retry_in = retry_in  # out of time: the backoff the next attempt should wait


class TransientError(Exception):
    """Worth another attempt (5xx, 429, timeout, refused connection, SMTP 4xx)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Another attempt would fail the same way (4xx, bad credentials, missing environment variable)."""


class Sender(Protocol):
    name: str
    kind: str

    @property
    def max_attempts(self) -> int:
        """Attempts an alert gets on this channel in all, over every batch."""
        ...

    def send(self, alert: Alert, deadline: float, attempts_left: int | None = None) -> int:
        """Deliver `alert` before `deadline` (time.monotonic()) in at most `attempts_left`
        attempts (None: the channel's own retries + 1); return attempts or raise DeliveryError."""
        ...


def retries_for(configured: int, attempts_left: int | None) -> int:
    """The retries one delivery round may use: what the channel allows, less earlier rounds'."""
    return configured if attempts_left is None else max(min(configured, attempts_left - 1), 0)


def with_retries(
    attempt: Callable[[float], None],
    *,
    retries: int,
    backoff_seconds: float,
    timeout_seconds: float,
    deadline: float,
) -> int:
    """Run `attempt(timeout)` until it succeeds, a PermanentError, `retries` are spent or time is up.

    Each attempt's timeout is cut to what is left before `deadline`, and no retry starts that
    could not finish in time, so a slow channel costs at most its deadline.
    """
    attempts = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            raise DeliveryError(
                f"no time left for attempt {attempts + 1}", attempts=attempts, unreachable=True,
                out_of_time=True,
            )
        attempts += 1
        try:
            attempt(min(timeout_seconds, remaining))
            return attempts
        except PermanentError as exc:
            raise DeliveryError(str(exc), attempts=attempts, unreachable=False) from None
        except TransientError as exc:
            delay = backoff_seconds * 2 ** (attempts - 1)
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            plural = "s" if attempts > 1 else ""
            if attempts > retries:
                raise DeliveryError(
                    f"{exc} (gave up after {attempts} attempt{plural})", attempts=attempts, unreachable=True
                ) from None
            if time.monotonic() + delay >= deadline:
                raise DeliveryError(
                    f"{exc} (attempt {attempts}; retried in a later batch)",
                    attempts=attempts,
                    unreachable=True,
                    out_of_time=True,
                    retry_in=delay,
                ) from None
            time.sleep(delay)
