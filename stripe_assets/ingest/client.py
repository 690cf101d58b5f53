"""Reads raw JSON pages of Stripe list endpoints over a lean urllib3 transport (`transport`).

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

import contextlib
import copy
import hashlib
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import stripe

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.limiter import Backlog, Limits, RateLimiter, default_account_rate, shared_limiter
from stripe_assets.ingest.redact import ApiKeyError, check_api_key, redact
from stripe_assets.ingest.rejected import without_lone_surrogates
from stripe_assets.ingest.transport import PageTransport

DEFAULT_API_BASE = "https://api.stripe.com"
PAGE_LIMIT = 100  # Stripe's maximum page size
DEFAULT_TIMEOUT_SECONDS = 30.0  # one HTTP attempt (connect and read); Stripe answers lists in < 2 s
DEFAULT_NETWORK_RETRIES = 4
DEFAULT_PAGE_DEADLINE_SECONDS = 300.0  # network attempts of one page, 429 waits excluded
DEFAULT_RATE_LIMIT_WAIT_SECONDS = 1800.0  # 429 waits of one page before giving up
EMPTY_PAGE_RETRIES = 2  # a page with `has_more` and no objects is asked for again this often


class StripeReadError(RuntimeError):
    """A failure reading from the Stripe API, with a message safe to show (no key)."""


class StripePermissionError(StripeReadError):
    """The key may not read this endpoint (HTTP 403)."""


class StripeAccountAccessError(StripeReadError):
    """The key may not act for this connected account (HTTP 403 `account_invalid`: unknown,
    deauthorized or access revoked); other accounts are unaffected."""

    def __init__(self, message: str, account: str | None = None):
        super().__init__(message)
        self.account = account


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
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        page_deadline_seconds: float = DEFAULT_PAGE_DEADLINE_SECONDS,
        rate_limit_wait_seconds: float = DEFAULT_RATE_LIMIT_WAIT_SECONDS,
        limits: Limits | None = None,
        limiter: RateLimiter | None = None,
        warn: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key:
            raise StripeReadError(
                "STRIPE_API_KEY is not set: export a Stripe secret or restricted (read-only) key"
            )
        try:
            check_api_key(api_key)
        except ApiKeyError as exc:
            raise StripeReadError(str(exc)) from None
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self._api_key = api_key
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
        self, path: str, params: Mapping[str, Any], stats: FetchStats, backlog: Backlog | None = None
    ) -> dict:
        """One GET, parsed, within the key's budget; retried as the module doc says, other
        errors become StripeReadError. `backlog`: what the calling load still expects to read."""
        self._local.stats = stats  # every attempt of this page is counted, retries included
        began = time.monotonic()
        throttled = 0.0  # seconds spent waiting out 429s (not counted against the deadline)
        limited = failures = 0
        try:
            while True:
                stats.count_wait(self.limiter.acquire(f"GET {path}", backlog))
                try:
                    return self._get_once(path, params, stats)
                except stripe.RateLimitError as exc:
                    if _should_not_retry(exc):
                        raise self._error(exc, path) from None
                    self.limiter.throttled()
                    limited += 1
                    delay = _rate_limit_delay(exc, limited)
                    if throttled + delay > self._rate_limit_wait:
                        raise StripeReadError(
                            f"Stripe kept answering HTTP 429 (rate limited) at {self.api_base}{path} for "
                            f"{throttled:.0f}s, longer than rate_limit_wait_seconds={self._rate_limit_wait:g}"
                        ) from None
                    throttled += delay
                    self._sleep(delay)
                except stripe.StripeError as exc:
                    if not _retriable(exc):
                        raise self._error(exc, path) from None
                    failures += 1
                    spent = time.monotonic() - began - throttled
                    delay = min(0.5 * 2 ** (failures - 1), 8.0) * (0.5 + random.random() / 2)
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
        self, path: str, params: Mapping[str, Any], stats: FetchStats, backlog: Backlog | None = None
    ) -> dict:
        """`get_page` of a list endpoint. A page with `has_more: true` and no objects cannot be
        the end of the list, nor be paged past (it has no last id): it is asked for again with
        backoff, then fails with one line naming the endpoint and the cursor."""
        for attempt in range(EMPTY_PAGE_RETRIES + 1):
            page = self.get_page(path, params, stats, backlog)
            if not _empty_with_more(page):
                return page
            if attempt < EMPTY_PAGE_RETRIES:
                delay = min(0.5 * 2**attempt, 8.0) * (0.5 + random.random() / 2)
                if self.warn is not None:
                    self.warn(
                        f"{self.api_base}{path}: a page with has_more=true and no objects "
                        f"({_cursor_text(params)}); asking again in {delay:.1f}s "
                        f"(attempt {attempt + 2} of {EMPTY_PAGE_RETRIES + 1})"
                    )
                self._sleep(delay)
        raise StripeReadError(
            f"{self.api_base}{path} answered {_cursor_text(params)} with has_more=true and no objects "
            f"{EMPTY_PAGE_RETRIES + 1} times: the list cannot be read to its end, so nothing of it was loaded"
        )

    def _get_once(self, path: str, params: Mapping[str, Any], stats: FetchStats) -> dict:
        # A lean transport (see `transport`) with the body parsed by orjson: the SDK's own
        # parsing builds an OrderedDict per object, ~20x slower than orjson.
        url = f"{self.api_base}{path}?{urlencode(_form_pairs(params))}"
        sent = time.time()
        body, status, headers = self._http.get(url, self._headers)
        self._local.observed = answered_since(headers, sent, time.time())
        stats.api_version = _header_value(headers, "stripe-version") or stats.api_version
        page = _parse(body)
        if not 200 <= status < 300:
            raise _api_error(page, body, status, headers)
        if not isinstance(page, dict):
            raise StripeReadError(f"{self.api_base}{path} answered HTTP {status} with a body that is not a JSON object")
        return page

    def last_observed(self) -> float | None:
        """How new the answer of this thread's last request is (Unix seconds on Stripe's clock)."""
        return getattr(self._local, "observed", None)

    def _cause(self, exc: stripe.StripeError) -> str:
        if isinstance(exc, stripe.APIConnectionError):
            cause = _network_cause(exc)
            if "timed out" in cause.lower():
                cause += f" (no answer within timeout_seconds={self._timeout_seconds:g})"
            return cause
        status = f"HTTP {exc.http_status}" if exc.http_status else "error"
        return f"{status}: {_first_line(exc.user_message or str(exc))}"

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
                "check STRIPE_API_KEY"
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
        return StripeReadError(f"Stripe {status} at {where}: {_first_line(exc.user_message or str(exc))}{tried}")

    def list_params(self, resource: str, start: datetime | int, end: datetime | int) -> dict[str, Any]:
        """The list parameters of `resource` for start <= created < end."""
        return {
            "limit": PAGE_LIMIT,
            "created": {"gte": _unix(start), "lt": _unix(end)},
            **get_resource(resource).list_params,
        }

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
        params = self.list_params(resource, start, end)
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
        self, resource: str, start: datetime | int, end: datetime | int, stats: FetchStats | None = None
    ) -> list[dict]:
        return [obj for page in self.list_pages(resource, start, end, stats) for obj in page]


def _parse(body: object) -> object:
    """The JSON body, or None. orjson refuses a lone surrogate escape (`\\ud800`), which the
    JSON grammar allows: such a body is read again by the standard library, and only the
    objects holding one are rejected (see `rejected`), never the page."""
    try:
        return orjson.loads(body)  # type: ignore[arg-type]
    except orjson.JSONDecodeError:
        pass
    try:
        page = json.loads(body, parse_constant=_not_json)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
    return without_lone_surrogates(page)


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _form_pairs(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding of GET parameters: `created[gte]=1`, `expand[0]=data.customer`."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs += _form_pairs(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                pairs += _form_pairs({str(i): item}, name)
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


def _api_error(page: object, body: object, status: int, headers: Mapping[str, str]) -> stripe.StripeError:
    """The SDK's typed error for an error answer, with Stripe's message."""
    error = page.get("error") if isinstance(page, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    message = message if isinstance(message, str) else f"HTTP {status}"
    code = error.get("code") if isinstance(error, dict) else None  # `account_invalid`: a connected account's 403
    code = code if isinstance(code, str) else None
    kind: type[stripe.StripeError] = {
        401: stripe.AuthenticationError,
        403: stripe.PermissionError,
        429: stripe.RateLimitError,
    }.get(status, stripe.InvalidRequestError if status in (400, 404) else stripe.APIError)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    headers = dict(headers)
    json_body = page if isinstance(page, dict) else None
    if kind is stripe.InvalidRequestError:
        return stripe.InvalidRequestError(
            message, None, http_body=text, http_status=status, json_body=json_body, headers=headers, code=code
        )
    return kind(message, http_body=text, http_status=status, json_body=json_body, headers=headers, code=code)


def read_page(path: str, page: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    """A list page's objects and the cursor of the page after it (None: the list ended).

    Fails with one line when the API does not page: `starting_after` ignored (the page holds
    the cursor's object, or ends where the previous one did) would otherwise loop forever.
    """
    data = page.get("data")
    if page.get("object") != "list" or not isinstance(data, list):
        raise StripeReadError(f"{path} did not return a list object")
    if not page.get("has_more"):
        return data, None
    if not data:  # `get_list_page` asked again already: the list cannot go on, nor may it end here
        raise StripeReadError(
            f"{path} answered {_cursor_text({'starting_after': cursor})} with has_more=true and no objects"
        )
    last = data[-1].get("id") if isinstance(data[-1], dict) else None
    if not isinstance(last, str) or not last:
        raise StripeReadError(f"{path}: the last object of a page has no id, so the next page cannot be asked for")
    if cursor is not None and (last == cursor or any(isinstance(o, dict) and o.get("id") == cursor for o in data)):
        raise StripeReadError(
            f"{path}: the API answered starting_after={cursor} with the same objects again "
            "(its cursor does not advance), so the listing would never end"
        )
    return data, last


def _empty_with_more(page: dict) -> bool:
    return page.get("object") == "list" and page.get("data") == [] and bool(page.get("has_more"))


def _cursor_text(params: Mapping[str, Any]) -> str:
    cursor = params.get("starting_after")
    return f"starting_after={cursor}" if cursor else "the first page"


def _retriable(exc: stripe.StripeError) -> bool:
    """Network errors, timeouts, conflicts and server errors, unless Stripe says not to retry."""
    if _should_not_retry(exc):
        return False
    if isinstance(exc, stripe.APIConnectionError):
        return True
    status = exc.http_status or 0
    return status == 409 or status >= 500


def answered_since(headers: Mapping[str, str] | None, sent: float, received: float) -> float:
    """The time on Stripe's clock the answer is at least as new as: its `Date` (whole seconds, taken
    as it answered) less the round trip, down to the second, so never after the request reached
    Stripe. Event times are on that clock too, in whole seconds, so states listed and states from
    events compare whatever the local clock says. Without a readable `Date`: the local time the
    request was sent."""
    date = _header_value(headers, "date")
    try:
        answered = parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        answered = None
    return sent if answered is None else float(math.floor(answered - max(received - sent, 0.0)))


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


def _network_cause(exc: stripe.StripeError) -> str:
    text = str(exc)
    for marker in ("[Errno", "Network error:"):
        if marker in text:
            cause = text[text.index(marker):].rstrip(")\"' ")
            return cause.removeprefix("Network error: ")
    return _first_line(text)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
