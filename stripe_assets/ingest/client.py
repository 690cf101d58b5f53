"""Reads raw JSON pages of Stripe list endpoints through the official SDK.

The `stripe` package's `StripeClient` does authentication, API-version pinning, connection
reuse and retries (5xx, 409, connection errors, `Stripe-Should-Retry`). We skip its object
layer: building `StripeObject`s costs ~450 µs per charge against ~12 µs to parse JSON, which
would cap ingestion near 2,000 records/s. Stripe asks clients to back off on 429, which the SDK
retries only when the response says `Stripe-Should-Retry: true`, so 429s get their own
backoff here (honouring `Retry-After` and `Stripe-Should-Retry: false`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stripe

from stripe_assets.catalog import get_resource

DEFAULT_API_BASE = "https://api.stripe.com"
PAGE_LIMIT = 100  # Stripe's maximum page size


class StripeReadError(RuntimeError):
    """A failure reading from the Stripe API, with a message safe to show (no key)."""


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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_response(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.rate_limited += status == 429
            self.server_errors += status >= 500

    def as_metadata(self) -> dict[str, int | float | str]:
        return {
            "api_requests": self.requests,
            "api_retries": max(self.requests - self.pages, 0),
            "api_rate_limited": self.rate_limited,
            "api_server_errors": self.server_errors,
            "pages": self.pages,
            "fetch_seconds": round(self.seconds, 3),
            "api_version": self.api_version or "(not stated)",
        }


class _CountingHTTPClient(stripe.RequestsClient):
    """The SDK's default requests-based client, counting every attempt's status.

    429s are left to `StripeReader.get_page`, which honours Retry-After: the SDK would retry
    them too (on `Stripe-Should-Retry: true`), multiplying the attempts of one page.
    """

    def __init__(self, stats_of: Callable[[], FetchStats | None], **kwargs: Any):
        super().__init__(**kwargs)
        self._stats_of = stats_of

    def _should_retry(self, response, api_connection_error, num_retries, max_network_retries):
        if response is not None and response[1] == 429:
            return False
        return super()._should_retry(response, api_connection_error, num_retries, max_network_retries)

    # The body is typed `str` on HTTPClient and `bytes` on RequestsClient: the SDK's own mismatch.
    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        try:
            body, status, rheaders = super().request(method, url, headers, post_data)
        except stripe.APIConnectionError:
            stats = self._stats_of()
            if stats is not None:
                stats.count_response(0)
            raise
        stats = self._stats_of()
        if stats is not None:
            stats.count_response(status)
        return body, status, rheaders


def _unix(value: datetime | int) -> int:
    if isinstance(value, int):
        return value
    if value.tzinfo is None:  # .timestamp() would silently read it as the machine's local time
        raise ValueError(f"{value!r} has no time zone; Stripe's created filters are in UTC")
    return int(value.timestamp())


def mask_key(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 16 else "****"


class StripeReader:
    """Pages through Stripe list endpoints, returning each page's objects as plain dicts."""

    def __init__(
        self,
        api_key: str | None,
        api_base: str | None = None,
        *,
        max_network_retries: int = 4,
        rate_limit_retries: int = 8,
        timeout_seconds: float = 80.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key:
            raise StripeReadError(
                "STRIPE_API_KEY is not set: export a Stripe secret or restricted (read-only) key"
            )
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self._api_key = api_key
        self._rate_limit_retries = rate_limit_retries
        self._sleep = sleep
        self._local = threading.local()
        stripe.enable_telemetry = False  # no request metrics sent to Stripe from a data pipeline
        local = self._local

        def current_stats() -> FetchStats | None:
            # Holds the thread-local, not the reader: no reference cycle keeping the session's
            # sockets open after the reader is gone.
            return getattr(local, "stats", None)

        self._http = _CountingHTTPClient(current_stats, timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=stripe.api_version,
            base_addresses={"api": self.api_base},
            max_network_retries=max_network_retries,
            http_client=self._http,
        )

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._http.close()

    def __enter__(self) -> StripeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never show the key
        return f"StripeReader(api_base={self.api_base!r}, key={mask_key(self._api_key)})"

    def get_page(self, path: str, params: Mapping[str, Any], stats: FetchStats) -> dict:
        """One GET, parsed; 429s are retried with backoff, other errors become StripeReadError."""
        self._local.stats = stats  # every attempt of this page is counted, retries included
        try:
            attempt = 0
            while True:
                try:
                    return self._get_once(path, params, stats)
                except stripe.RateLimitError as exc:
                    if attempt >= self._rate_limit_retries or _should_not_retry(exc):
                        raise self._error(exc, path) from None
                    attempt += 1
                    self._sleep(_rate_limit_delay(exc, attempt))
                except stripe.StripeError as exc:
                    raise self._error(exc, path) from None
        finally:
            self._local.stats = None

    def _get_once(self, path: str, params: Mapping[str, Any], stats: FetchStats) -> dict:
        # The SDK parses the body and turns an error answer into its typed exception.
        response = self._client.raw_request("get", path, **params, usage=["stripe_assets"])
        stats.api_version = _header_value(response.headers, "stripe-version") or stats.api_version
        page = response.data
        if not isinstance(page, dict):
            raise StripeReadError(
                f"{self.api_base}{path} answered HTTP {response.code} with a body that is not a JSON object"
            )
        return page

    def _error(self, exc: stripe.StripeError, path: str) -> StripeReadError:
        where = f"{self.api_base}{path}"
        if isinstance(exc, stripe.AuthenticationError):
            return StripeReadError(
                f"Stripe rejected the API key {mask_key(self._api_key)} (HTTP 401) at {where}: "
                "check STRIPE_API_KEY"
            )
        if isinstance(exc, stripe.PermissionError):
            return StripeReadError(
                f"the API key {mask_key(self._api_key)} may not read {path} (HTTP 403): "
                "grant it read access to this resource"
            )
        if isinstance(exc, stripe.APIConnectionError):
            return StripeReadError(
                f"cannot reach the Stripe API at {self.api_base} (STRIPE_API_BASE): {_network_cause(exc)}"
            )
        status = f"HTTP {exc.http_status}" if exc.http_status else "error"
        return StripeReadError(f"Stripe {status} at {where}: {_first_line(exc.user_message or str(exc))}")

    def list_pages(
        self,
        resource: str,
        start: datetime | int,
        end: datetime | int,
        stats: FetchStats | None = None,
    ) -> Iterator[list[dict]]:
        """Every object of `resource` with start <= created < end, page by page (newest first)."""
        spec = get_resource(resource)
        stats = stats if stats is not None else FetchStats()
        params: dict[str, Any] = {
            "limit": PAGE_LIMIT,
            "created": {"gte": _unix(start), "lt": _unix(end)},
            **spec.list_params,
        }
        began = time.perf_counter()
        try:
            while True:
                page = self.get_page(spec.path, params, stats)
                data = page.get("data")
                if page.get("object") != "list" or not isinstance(data, list):
                    raise StripeReadError(f"{spec.path} did not return a list object")
                stats.pages += 1
                stats.objects += len(data)
                if data:
                    yield data
                if not page.get("has_more") or not data:
                    return
                params["starting_after"] = data[-1]["id"]
        finally:
            stats.seconds += time.perf_counter() - began

    def list_window(
        self, resource: str, start: datetime | int, end: datetime | int, stats: FetchStats | None = None
    ) -> list[dict]:
        return [obj for page in self.list_pages(resource, start, end, stats) for obj in page]


def _header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _header(exc: stripe.StripeError, name: str) -> str | None:
    return _header_value(exc.headers, name)


def _should_not_retry(exc: stripe.StripeError) -> bool:
    return (_header(exc, "stripe-should-retry") or "").lower() == "false"


def _rate_limit_delay(exc: stripe.StripeError, attempt: int) -> float:
    retry_after = _header(exc, "retry-after")
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), 60.0)
        except ValueError:
            pass
    # Exponential backoff with jitter, as Stripe recommends for rate limits.
    return min(0.5 * 2 ** (attempt - 1), 30.0) * (0.5 + random.random() / 2)


def _network_cause(exc: stripe.StripeError) -> str:
    text = str(exc)
    for marker in ("[Errno", "Network error:"):
        if marker in text:
            cause = text[text.index(marker):].rstrip(")\"' ")
            return cause.removeprefix("Network error: ")
    return _first_line(text)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
