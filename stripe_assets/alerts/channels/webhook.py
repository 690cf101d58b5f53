"""`webhook` channel: POST JSON with a Slack-compatible `text` plus the structured alert fields."""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from stripe_assets.alerts.alert import Alert, render_text
from stripe_assets.alerts.channels.base import PermanentError, TransientError, retries_for, with_retries
from stripe_assets.dataflows.alert_settings import WebhookChannel
from stripe_assets.ingest.redact import redact

# A Retry-After is honoured up to the longest wait between passes: a round never sleeps past its
# deadline (a longer wait moves the alert to a later pass), so the cap only bounds a silly value.
MAX_RETRY_AFTER_SECONDS = 15 * 60.0


def webhook_payload(alert: Alert) -> dict[str, Any]:
    return {"text": render_text(alert), **alert.model_dump(mode="json")}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a body-less GET; report the redirect instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class WebhookSender:
    kind = "webhook"

    def __init__(self, name: str, config: WebhookChannel) -> None:
        self.name = name
        self.config = config

    def _url(self) -> str:
        # The URL is a secret when it comes from the environment: never put it in messages.
        if self.config.url_env is not None:
            url = os.environ.get(self.config.url_env, "").strip()
            if not url:
                raise PermanentError(f"environment variable {self.config.url_env} is not set")
            return url
        assert self.config.url is not None
        return self.config.url

    @property
    def max_attempts(self) -> int:
        return self.config.retries + 1

    def send(self, alert: Alert, deadline: float, attempts_left: int | None = None) -> int:
        body = json.dumps(webhook_payload(alert)).encode()

        def attempt(timeout: float) -> None:
            _post(self._url(), body, timeout)

        return with_retries(
            attempt,
            retries=retries_for(self.config.retries, attempts_left),
            backoff_seconds=self.config.backoff_seconds,
            timeout_seconds=self.config.timeout_seconds,
            deadline=deadline,
        )


def _post(url: str, body: bytes, timeout: float) -> None:
    # Webhook URLs are often secrets (Slack's carry a token): no error below quotes the URL.
    try:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("not http(s)")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "stripe-assets-alerts"},
        )
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        # Receivers echo the request (Express: `Cannot POST /services/T0.../B0.../<token>`).
        detail = redact(_snippet(exc), url)
        if exc.code >= 500 or exc.code == 429:
            raise TransientError(f"HTTP {exc.code}{detail}", retry_after=_retry_after(exc)) from None
        raise PermanentError(f"HTTP {exc.code}{detail} (not retried)") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise TransientError(f"no answer within {timeout:.1f} s") from None
        if isinstance(exc.reason, str):  # e.g. unknown url type
            raise PermanentError("bad URL (not a valid http(s) URL)") from None
        raise TransientError(f"connection failed: {_reason(exc.reason)}") from None
    except TimeoutError:
        raise TransientError(f"no answer within {timeout:.1f} s") from None
    except (ValueError, http.client.InvalidURL):  # malformed URL
        raise PermanentError("bad URL (not a valid http(s) URL)") from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        raise TransientError(f"connection failed: {_reason(exc)}") from None


def _reason(exc: object) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _snippet(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(200).decode("utf-8", "replace").strip().splitlines()
    except Exception:
        return ""
    return f": {text[0]}" if text else ""


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
