"""Stripe's answers as errors: an error answer as the SDK's typed error (`api_error`), and the
errors a read raises, with messages safe to show (the key masked, one line)."""

from __future__ import annotations

from collections.abc import Mapping

import stripe


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


def mask_key(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 16 else "****"


def api_error(page: object, body: object, status: int, headers: Mapping[str, str]) -> stripe.StripeError:
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


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def network_cause(exc: stripe.StripeError) -> str:
    text = str(exc)
    for marker in ("[Errno", "Network error:"):
        if marker in text:
            cause = text[text.index(marker):].rstrip(")\"' ")
            return cause.removeprefix("Network error: ")
    return first_line(text)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
