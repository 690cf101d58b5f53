"""When a failed request is asked again, and after how long: 429s wait out `Retry-After` (or an
exponential backoff), network errors, timeouts, 409 and 5xx back off, both with jitter, unless
Stripe says not to retry (`Stripe-Should-Retry: false`)."""

from __future__ import annotations

import contextlib
import random

import stripe

from stripe_assets.ingest.stripe_errors import header_value

EMPTY_PAGE_RETRIES = 2  # a page with `has_more` and no objects is asked for again this often


def backoff_delay(attempt: int) -> float:
    """The wait before asking again after the `attempt`-th failure (1, 2, ...): exponential up to
    8 s, less up to half of it at random, so that readers failing together do not come back together."""
    return min(0.5 * 2 ** (attempt - 1), 8.0) * (0.5 + random.random() / 2)


def retriable(exc: stripe.StripeError) -> bool:
    """Network errors, timeouts, conflicts and server errors, unless Stripe says not to retry."""
    if should_not_retry(exc):
        return False
    if isinstance(exc, stripe.APIConnectionError):
        return True
    status = exc.http_status or 0
    return status == 409 or status >= 500


def should_not_retry(exc: stripe.StripeError) -> bool:
    return (_header(exc, "stripe-should-retry") or "").lower() == "false"


def rate_limit_delay(exc: stripe.StripeError, attempt: int) -> float:
    """Retry-After (or exponential backoff) stretched by up to 100 % jitter, so that readers
    throttled together do not come back together."""
    retry_after = _header(exc, "retry-after")
    base = None
    if retry_after:
        with contextlib.suppress(ValueError):
            base = min(max(float(retry_after), 0.0), 60.0)
    if base is None:
        base = min(0.5 * 2 ** min(attempt - 1, 10), 30.0)
    return max(base, 0.1) * (1.0 + random.random())


def _header(exc: stripe.StripeError, name: str) -> str | None:
    return header_value(exc.headers, name)
