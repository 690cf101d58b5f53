"""Reads raw JSON pages of Stripe list endpoints over a lean urllib3 transport (`transport`); the
pages themselves are read in `pages`, error answers mapped in `stripe_errors`, backoff in `retries`.

We pin the API version the schemas were generated for and raise the SDK's typed errors, but skip
its object layer and its parsing: building `StripeObject`s costs ~450 µs per charge, its JSON
parsing (an OrderedDict per object) ~150 µs, against ~10 µs for orjson.
Retries are ours, so that every page has bounded, visible costs:

- every request first waits for its slot in the key's shared budget (`limiter`);
- 429s halve that budget and are waited out with jitter (`Retry-After` honoured,
  `Stripe-Should-Retry: false` respected) for up to `rate_limit_wait_seconds` per page: a slow
  account is slow, not failed;
- connection errors, timeouts, 409 and 5xx are retried `network_retries` times with jittered
  backoff, within `page_deadline_seconds` per page, each retry reported through `warn`;
- a cursor that does not advance (an API ignoring `starting_after`) fails with one line;
- a list page saying `has_more` with no objects is asked for again (`EMPTY_PAGE_RETRIES`
  times, with the same backoff) and then fails with one line: it never ends the list, since
  what follows it would be silently missing.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import stripe

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.fetch_stats import FetchStats
from stripe_assets.ingest.lean import LeanPlan
from stripe_assets.ingest.limiter import Backlog, Limits, RateLimiter, default_account_rate, shared_limiter
from stripe_assets.ingest.pages import (
    PAGE_LIMIT,
    answered_since,
    cursor_text,
    empty_with_more,
    form_pairs,
    parse_page,
    read_page,
    unix,
)
from stripe_assets.ingest.redact import API_KEY_ENV, ApiKeyError, check_api_key, redact
from stripe_assets.ingest.retries import (
    EMPTY_PAGE_RETRIES,
    backoff_delay,
    rate_limit_delay,
    retriable,
    should_not_retry,
)
from stripe_assets.ingest.stripe_errors import (
    StripeAccountAccessError,
    StripePermissionError,
    StripeReadError,
    api_error,
    first_line,
    header_value,
    mask_key,
    network_cause,
)
from stripe_assets.ingest.transport import PageTransport

# Imported from here by most of the data path.
__all__ = [
    "FetchStats",
    "StripeAccountAccessError",
    "StripePermissionError",
    "StripeReadError",
    "StripeReader",
]

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TIMEOUT_SECONDS = 30.0  # one HTTP attempt (connect and read); Stripe answers lists in < 2 s
DEFAULT_NETWORK_RETRIES = 4
DEFAULT_PAGE_DEADLINE_SECONDS = 300.0  # network attempts of one page, 429 waits excluded
DEFAULT_RATE_LIMIT_WAIT_SECONDS = 1800.0  # 429 waits of one page before giving up


@dataclass
class OwnAccount:
    """The id of the account a key belongs to, once a reader has asked Stripe."""

    value: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class StripeReader:
    """Pages through Stripe list endpoints, returning each page's objects as plain dicts."""

    def __init__(
        self,
        api_key: str | None,
        api_base: str | None = None,
        *,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        page_deadline_seconds: float = DEFAULT_PAGE_DEADLINE_SECONDS,
        rate_limit_wait_seconds: float = DEFAULT_RATE_LIMIT_WAIT_SECONDS,
        limits: Limits | None = None,
        limiter: RateLimiter | None = None,
        warn: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        key_env: str = API_KEY_ENV,
    ):
        if not api_key:
            raise StripeReadError(f"{key_env} is not set: export a Stripe secret or restricted (read-only) key")
        try:
            check_api_key(api_key)
        except ApiKeyError as exc:
            raise StripeReadError(str(exc)) from None
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self._api_key = api_key
        self._key_env = key_env  # the variable the key came from, named when Stripe rejects it
        self._network_retries = max_network_retries
        self._timeout_seconds = timeout_seconds
        self._page_deadline = page_deadline_seconds
        self._rate_limit_wait = rate_limit_wait_seconds
        # One budget for every thread and process reading with this key (see `limiter`).
        self.limiter = limiter or shared_limiter(
            api_key, self.api_base, limits or Limits(default_account_rate(api_key))
        )
        self.warn = warn
        self._sleep = sleep
        self._local = threading.local()
        local = self._local

        def current_stats() -> FetchStats | None:
            # Holds the thread-local, not the reader: no reference cycle keeping the session's
            # sockets open after the reader is gone.
            return getattr(local, "stats", None)

        self._http = PageTransport(self.api_base, timeout_seconds, current_stats)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Stripe-Version": stripe.api_version,  # the version the schemas were generated for
            "User-Agent": f"stripe-assets (stripe-python {stripe.VERSION})",
        }
        self.account: str | None = None  # the connected account read for (`Stripe-Account`)
        # The key's own account once asked (`accounts.platform_account`): shared with the
        # readers `for_account` makes, since they copy this one.
        self.own_account = OwnAccount()

    @property
    def key_fingerprint(self) -> str:
        """Tells keys apart without holding them (a cache key)."""
        return hashlib.sha256(self._api_key.encode()).hexdigest()[:16]

    def for_account(self, account: str | None) -> StripeReader:
        """This reader acting for a connected account (None: the key's own): the same
        connections and the same budget, since Stripe counts every request against the key."""
        if account == self.account:
            return self
        other = copy.copy(self)
        other.account = account
        other._headers = {k: v for k, v in self._headers.items() if k != "Stripe-Account"}
        if account is not None:
            other._headers["Stripe-Account"] = account
        return other

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._http.close()

    def __enter__(self) -> StripeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never show the key
        return f"StripeReader(api_base={self.api_base!r}, key={mask_key(self._api_key)})"

    def get_page(
        self,
        path: str,
        params: Mapping[str, Any],
        stats: FetchStats,
        backlog: Backlog | None = None,
        lean: LeanPlan | None = None,
        texts: bool = False,
    ) -> dict:
        """One GET, parsed, within the key's budget; retried as the module doc says, other
        errors become StripeReadError. `backlog`: what the calling load still expects to read;
        `lean`: fields of a list page's objects to leave unbuilt; `texts`: a list page's objects
        come with the text the page sent for each (for `raw`; see `pages.parse_page`)."""
        self._local.stats = stats  # every attempt of this page is counted, retries included
        began = time.monotonic()
        throttled = 0.0  # seconds spent waiting out 429s (not counted against the deadline)
        limited = failures = 0
        try:
            while True:
                stats.count_wait(self.limiter.acquire(f"GET {path}", backlog))
                try:
                    return self._get_once(path, params, stats, lean, texts)
                except stripe.RateLimitError as exc:
                    if should_not_retry(exc):
                        raise self._error(exc, path) from None
                    self.limiter.throttled()
                    limited += 1
                    delay = rate_limit_delay(exc, limited)
                    if throttled + delay > self._rate_limit_wait:
                        raise StripeReadError(
                            f"Stripe kept answering HTTP 429 (rate limited) at {self.api_base}{path} for "
                            f"{throttled:.0f}s, longer than rate_limit_wait_seconds={self._rate_limit_wait:g}"
                        ) from None
                    throttled += delay
                    self._sleep(delay)
                except stripe.StripeError as exc:
                    if not retriable(exc):
                        raise self._error(exc, path) from None
                    failures += 1
                    spent = time.monotonic() - began - throttled
                    delay = backoff_delay(failures)
                    if failures > self._network_retries or spent + delay >= self._page_deadline:
                        raise self._error(exc, path, attempts=failures, seconds=spent) from None
                    if self.warn is not None:
                        self.warn(
                            f"{self.api_base}{path}: {self._cause(exc)}; retrying in {delay:.1f}s "
                            f"(attempt {failures + 1} of {self._network_retries + 1})"
                        )
                    self._sleep(delay)
        finally:
            self._local.stats = None

    def get_list_page(
        self,
        path: str,
        params: Mapping[str, Any],
        stats: FetchStats,
        backlog: Backlog | None = None,
        lean: LeanPlan | None = None,
        texts: bool = False,
    ) -> dict:
        """`get_page` of a list endpoint. A page with `has_more: true` and no objects cannot be
        the end of the list, nor be paged past (it has no last id): it is asked for again with
        backoff, then fails with one line naming the endpoint and the cursor."""
        for attempt in range(EMPTY_PAGE_RETRIES + 1):
            page = self.get_page(path, params, stats, backlog, lean, texts)
            if not empty_with_more(page):
                return page
            if attempt < EMPTY_PAGE_RETRIES:
                delay = backoff_delay(attempt + 1)
                if self.warn is not None:
                    self.warn(
                        f"{self.api_base}{path}: a page with has_more=true and no objects "
                        f"({cursor_text(params)}); asking again in {delay:.1f}s "
                        f"(attempt {attempt + 2} of {EMPTY_PAGE_RETRIES + 1})"
                    )
                self._sleep(delay)
        raise StripeReadError(
            f"{self.api_base}{path} answered {cursor_text(params)} with has_more=true and no objects "
            f"{EMPTY_PAGE_RETRIES + 1} times: the list cannot be read to its end, so nothing of it was loaded"
        )

    def _get_once(
        self,
        path: str,
        params: Mapping[str, Any],
        stats: FetchStats,
        lean: LeanPlan | None = None,
        texts: bool = False,
    ) -> dict:
        # A lean transport (see `transport`) with the body parsed by orjson: the SDK's own
        # parsing builds an OrderedDict per object, ~20x slower than orjson.
        url = f"{self.api_base}{path}?{urlencode(form_pairs(params))}"
        sent = time.time()
        body, status, headers = self._http.get(url, self._headers)
        self._local.observed = answered_since(headers, sent, time.time())
        stats.api_version = header_value(headers, "stripe-version") or stats.api_version
        page = parse_page(body, lean, texts)
        if not 200 <= status < 300:
            raise api_error(page, body, status, headers)
        if not isinstance(page, dict):
            raise StripeReadError(f"{self.api_base}{path} answered HTTP {status} with a body that is not a JSON object")
        return page

    def last_observed(self) -> float | None:
        """How new the answer of this thread's last request is (Unix seconds on Stripe's clock)."""
        return getattr(self._local, "observed", None)

    def _cause(self, exc: stripe.StripeError) -> str:
        if isinstance(exc, stripe.APIConnectionError):
            cause = network_cause(exc)
            if "timed out" in cause.lower():
                cause += f" (no answer within timeout_seconds={self._timeout_seconds:g})"
            return cause
        status = f"HTTP {exc.http_status}" if exc.http_status else "error"
        return f"{status}: {first_line(exc.user_message or str(exc))}"

    def _error(
        self, exc: stripe.StripeError, path: str, *, attempts: int = 0, seconds: float = 0.0
    ) -> StripeReadError:
        # Whatever the library quoted (a header value, a request line), the key never leaves.
        error = self._describe(exc, path, attempts=attempts, seconds=seconds)
        message = redact(str(error), self._api_key)
        if isinstance(error, StripeAccountAccessError):
            return StripeAccountAccessError(message, error.account)
        return type(error)(message)  # the kind stays (403: permission)

    def _describe(
        self, exc: stripe.StripeError, path: str, *, attempts: int = 0, seconds: float = 0.0
    ) -> StripeReadError:
        where = f"{self.api_base}{path}"
        tried = f" ({attempts} attempts over {seconds:.0f}s)" if attempts > 1 else ""
        if isinstance(exc, stripe.AuthenticationError):
            return StripeReadError(
                f"Stripe rejected the API key {mask_key(self._api_key)} (HTTP 401) at {where}: "
                f"check {self._key_env}"
            )
        if isinstance(exc, stripe.PermissionError) and self.account and exc.code == "account_invalid":
            return StripeAccountAccessError(
                f"the API key {mask_key(self._api_key)} may not read account {self.account} (HTTP 403): "
                "the account is unknown, deauthorized the platform, or its access was revoked",
                self.account,
            )
        if isinstance(exc, stripe.PermissionError):
            return StripePermissionError(
                f"the API key {mask_key(self._api_key)} may not read {path} (HTTP 403): "
                "grant it read access to this resource"
            )
        if isinstance(exc, stripe.APIConnectionError):
            return StripeReadError(
                f"cannot reach the Stripe API at {self.api_base} (STRIPE_API_BASE): {self._cause(exc)}{tried}"
            )
        status = f"HTTP {exc.http_status}" if exc.http_status else "error"
        return StripeReadError(f"Stripe {status} at {where}: {first_line(exc.user_message or str(exc))}{tried}")

    def list_params(self, spec: StripeResource, start: datetime | int, end: datetime | int) -> dict[str, Any]:
        """The list parameters of the resource `spec` declares for start <= created < end."""
        return {
            "limit": PAGE_LIMIT,
            "created": {"gte": unix(start), "lt": unix(end)},
            **spec.list_params,
        }

    def list_pages(
        self,
        spec: StripeResource,
        start: datetime | int,
        end: datetime | int,
        stats: FetchStats | None = None,
    ) -> Iterator[list[dict]]:
        """Every object of the resource `spec` declares with start <= created < end, page by page
        (newest first)."""
        stats = stats if stats is not None else FetchStats()
        params = self.list_params(spec, start, end)
        began = time.perf_counter()
        try:
            while True:
                page = self.get_list_page(spec.path, params, stats)
                data, cursor = read_page(spec.path, page, params.get("starting_after"))
                stats.count_page(len(data))
                if data:
                    yield data
                if cursor is None:
                    return
                params["starting_after"] = cursor
        finally:
            stats.seconds += time.perf_counter() - began

    def list_window(
        self, spec: StripeResource, start: datetime | int, end: datetime | int, stats: FetchStats | None = None
    ) -> list[dict]:
        return [obj for page in self.list_pages(spec, start, end, stats) for obj in page]
