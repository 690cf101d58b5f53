"""Stripe's error responses: `{"error": {"type", "code", "message", "param", "doc_url"}}`."""

from __future__ import annotations

from typing import Any

import orjson


class ApiError(Exception):
    """An error answered the way Stripe answers it; keys Stripe would leave out stay out."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> bytes:
        error: dict[str, Any] = {}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        error["type"] = self.type
        return orjson.dumps({"error": error})


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def unknown_parameter(name: str) -> ApiError:
    return invalid(f"Received unknown parameter: {name}", param=name)


def no_such(object_name: str, object_id: str, param: str, status: int = 400) -> ApiError:
    return ApiError(status, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
        "https://stripe.com/docs/api#authentication for details, or we can help at "
        "https://support.stripe.com/.",
        headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def masked_key(key: str) -> str:
    """`sk_test_****abcd`: the key's kind and last four characters, never the secret part."""
    kind = next(
        (
            p
            for p in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")
            if key.startswith(p)
        ),
        "",
    )
    return f"{kind}{'*' * max(len(key) - len(kind) - 4, 4)}{key[-4:] if len(key) > 8 else ''}"


def invalid_api_key(key: str) -> ApiError:
    return ApiError(
        401,
        f"Invalid API Key provided: {masked_key(key)}",
        code="api_key_invalid",
        headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def rate_limited() -> ApiError:
    return ApiError(
        429,
        "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        code="rate_limit",
        headers={"Stripe-Should-Retry": "true", "Retry-After": "1"},
    )


def server_error() -> ApiError:
    return ApiError(
        500,
        "Sorry, something went wrong. We've already been notified of the problem, but if you "
        "need any help, you can reach us at support.stripe.com/contact.",
        type="api_error",
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
    )


def read_only(method: str, path: str) -> ApiError:
    return ApiError(
        405,
        f"This Stripe emulator only reads data: {method} {path} is not supported; use GET.",
        headers={"Allow": "GET"},
    )
