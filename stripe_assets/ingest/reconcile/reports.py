"""Stripe's Reporting API and balance, over HTTP: a report run created, polled until it succeeds,
its file downloaded; `GET /v1/balance`.

Report files are served from files.stripe.com; with `STRIPE_API_BASE` set (the emulator), a file
URL on Stripe's hosts is read from that base instead. The key authenticates every request,
downloads too, and never appears in a message.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from stripe_assets.ingest.client import DEFAULT_API_BASE
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.stripe_schema import API_VERSION

STRIPE_FILE_HOSTS = ("files.stripe.com", "api.stripe.com")
RETRIES = 4


class ReportsError(RuntimeError):
    """One line: what was asked, and why it failed."""


@dataclass(frozen=True)
class ReportType:
    id: str
    data_available_start: int
    data_available_end: int


class ReportsClient:
    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        timeout_seconds: float = 30.0,
        run_timeout_seconds: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key:
            raise ReportsError("STRIPE_API_KEY is not set: export a key that may read reports and the balance")
        self._key = api_key
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self._timeout = timeout_seconds
        self._run_timeout = run_timeout_seconds
        self._sleep = sleep
        self.requests = 0

    def __repr__(self) -> str:  # never the key
        return f"ReportsClient(api_base={self.api_base!r})"

    # HTTP ----------------------------------------------------------------------------------------

    def _request(self, method: str, url: str, form: Mapping[str, Any] | None = None) -> tuple[bytes, str | None]:
        """The answer's body and its `Date` header (Stripe's clock)."""
        data = urlencode(list(form.items())).encode() if form is not None else None
        headers = {"Authorization": f"Bearer {self._key}", "Stripe-Version": API_VERSION}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(RETRIES + 1):
            self.requests += 1
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    return bytes(response.read()), response.headers.get("Date")
            except urllib.error.HTTPError as error:
                body = error.read()
                # 429 and 5xx are Stripe's "try again"; POSTs of report runs are safe to repeat.
                if (error.code == 429 or error.code >= 500) and attempt < RETRIES:
                    self._sleep(min(0.5 * 2**attempt, 8.0))
                    continue
                raise ReportsError(f"{method} {_where(url)}: HTTP {error.code}: {_message(body)}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt < RETRIES:
                    self._sleep(min(0.5 * 2**attempt, 8.0))
                    continue
                reason = getattr(error, "reason", error)
                raise ReportsError(f"{method} {_where(url)}: {redact(str(reason))}") from None
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, form: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body, _ = self._request(method, self.api_base + path, form)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ReportsError(f"{method} {path}: the answer is not JSON") from None
        if not isinstance(parsed, dict):
            raise ReportsError(f"{method} {path}: the answer is not a JSON object")
        return parsed

    # the API -------------------------------------------------------------------------------------

    def balance_at(self) -> tuple[dict[str, Any], int | None]:
        """`/v1/balance` and when Stripe computed it (Unix seconds, its `Date` header)."""
        body, date = self._request("GET", self.api_base + "/v1/balance")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ReportsError("GET /v1/balance: the answer is not JSON") from None
        when = None
        if date:
            with contextlib.suppress(TypeError, ValueError):
                when = int(parsedate_to_datetime(date).timestamp())
        return parsed, when

    def own_account(self) -> str | None:
        """The key's own account id (`GET /v1/account`): the balance the reports and `/v1/balance`
        describe. None when the key may not read it."""
        try:
            found = self._json("GET", "/v1/account").get("id")
        except ReportsError:
            return None
        return found if isinstance(found, str) else None

    def net_created_since(self, start: int) -> tuple[dict[str, int], int]:
        """Σ net per currency of the `payments` balance transactions created at or after `start`
        (those no load covers yet), and how many there are."""
        totals: dict[str, int] = {}
        count = 0
        params: dict[str, Any] = {"limit": 100, "created[gte]": start}
        while True:
            page = self._json("GET", f"/v1/balance_transactions?{urlencode(params)}")
            for txn in page.get("data") or ():
                if (txn.get("balance_type") or "payments") != "payments":
                    continue
                totals[txn["currency"]] = totals.get(txn["currency"], 0) + int(txn["net"])
                count += 1
            if not page.get("has_more") or not page.get("data"):
                return totals, count
            params["starting_after"] = page["data"][-1]["id"]

    def report_type(self, report_type: str) -> ReportType:
        body = self._json("GET", f"/v1/reporting/report_types/{report_type}")
        return ReportType(report_type, int(body["data_available_start"]), int(body["data_available_end"]))

    def run_report(self, report_type: str, parameters: Mapping[str, Any]) -> bytes:
        """Creates a run, polls it until it succeeds (or fails, or takes longer than the run
        timeout) and returns its file's contents."""
        form = {"report_type": report_type, **{f"parameters[{k}]": v for k, v in parameters.items()}}
        run = self._json("POST", "/v1/reporting/report_runs", form)
        began, delay = time.monotonic(), 0.2
        while run.get("status") == "pending":
            if time.monotonic() - began > self._run_timeout:
                raise ReportsError(
                    f"report run {run.get('id')} of {report_type} was still pending after {self._run_timeout:.0f}s"
                )
            self._sleep(delay)
            delay = min(delay * 2, 10.0)
            run = self._json("GET", f"/v1/reporting/report_runs/{run['id']}")
        if run.get("status") != "succeeded" or not run.get("result"):
            raise ReportsError(f"report run {run.get('id')} of {report_type} {run.get('status')}: {run.get('error')}")
        return self._request("GET", self.file_url(str(run["result"]["url"])))[0]

    def file_url(self, url: str) -> str:
        """The file's URL, on the API base when that is not Stripe's (the emulator)."""
        parts = urlsplit(url)
        if self.api_base != DEFAULT_API_BASE and parts.hostname in STRIPE_FILE_HOSTS:
            return self.api_base + parts.path + (f"?{parts.query}" if parts.query else "")
        return url


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.path


def _message(body: bytes) -> str:
    try:
        error = orjson.loads(body).get("error", {})
        return redact(str(error.get("message") or error)).splitlines()[0]
    except (orjson.JSONDecodeError, AttributeError, IndexError):
        return redact(body[:200].decode("utf-8", "replace")).splitlines()[0] if body else "no body"
