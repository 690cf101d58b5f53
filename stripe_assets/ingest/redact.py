"""Keeping the Stripe key out of everything the project prints or stores.

Libraries quote what they were given: requests puts a header value into its `InvalidHeader`
message, an HTTP client may echo `Authorization: Bearer ...`, a webhook receiver its request path
(Express's `Cannot POST /services/T0.../B0.../...`). Every boundary where text leaves the project
(step failures, alerts and the alert log, CLI output) passes it through `redact`, which replaces
every secret the deployment documents wherever it appears: the Stripe key, the Postgres
passwords (`DAGSTER_PG_PASSWORD`, `PGPASSWORD`), the object store's secret key and session token,
any variable named like a secret (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*WEBHOOK*`), the
variables the alert channels read their URL and SMTP password from, and for a URL also its path,
query and password alone. Anything shaped like a Stripe key or a bearer token goes too. A Stripe
key keeps its kind and last four characters (`sk_live_****wxyz`); other secrets become `****`.

The key itself is checked once, before any request (`check_api_key`): a key with surrounding
whitespace or control characters (a CRLF `.env` file, a key read from a file with its final
newline) is refused with one line that does not quote it. Stripping it silently would hide a
broken secret store; refusing names the problem where it is fixed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import unquote, urlsplit

API_KEY_ENV = "STRIPE_API_KEY"  # the variable `stripe_assets.settings` reads the key from
# Also never shown: the Postgres passwords of the instance and the lake's catalog, the lake's
# object storage secrets (the standard AWS variables).
SECRET_ENVS = (API_KEY_ENV, "DAGSTER_PG_PASSWORD", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|WEBHOOK", re.IGNORECASE)
_registered: set[str] = set()  # variables the configuration names as holding secrets

# Stripe secret / restricted / publishable keys (and webhook secrets): prefix, mode, body.
_KEY_SHAPE = re.compile(r"\b((?:sk|rk|pk|whsec)_(?:test_|live_)?)([A-Za-z0-9]{6,})")
_BEARER = re.compile(r"(Bearer\s+)(?!\*\*\*\*)\S+", re.IGNORECASE)


class ApiKeyError(ValueError):
    """The configured key cannot be used as given; the message never contains it."""


def mask(key: str) -> str:
    """`sk_live_****wxyz`: the key's kind and last four characters, never the secret part."""
    key = key.strip()
    match = _KEY_SHAPE.match(key)
    prefix = match.group(1) if match else ""
    tail = key[-4:] if len(key) - len(prefix) > 12 else ""
    return f"{prefix}****{tail}"


def check_api_key(key: str, name: str = API_KEY_ENV) -> str:
    """The key, when it is usable as an HTTP header value as given; else ApiKeyError."""
    if key != key.strip():
        where = "ends" if key.rstrip() != key else "starts"
        raise ApiKeyError(
            f"{name} {where} with whitespace or a line break (a CRLF .env file or a key file's final "
            f"newline?): remove it and set the key again (key {mask(key)})"
        )
    bad = next((c for c in key if not c.isprintable() or c.isspace()), None)
    if bad is not None:
        raise ApiKeyError(
            f"{name} contains a control or space character ({bad!r}): set the key again without it "
            f"(key {mask(key)})"
        )
    return key


def register_secret_env(name: str | None) -> None:
    """The variable `name` holds a secret (e.g. a channel's `url_env`): redact its value too."""
    if name:
        _registered.add(name)


def _secret_names() -> list[str]:
    named = [name for name in os.environ if _SECRET_NAME.search(name)]
    return [*SECRET_ENVS, *sorted(_registered), *named]


def _url_parts(value: str) -> list[str]:
    """The parts of a URL that carry its secret when quoted alone: path (+ query), query, password."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return []
    if not parts.scheme or not parts.netloc:
        return []
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return [tail, parts.path, parts.query, parts.password or ""]


def _secrets(extra: Iterable[str | None] = ()) -> list[str]:
    found = []
    for value in (*(os.environ.get(name) for name in _secret_names()), *extra):
        if not value:
            continue
        for part in (value, *_url_parts(value)):
            for form in (part, part.strip(), repr(part)[1:-1], unquote(part)):
                if len(form) >= 6 and form not in found:
                    found.append(form)
    return sorted(found, key=len, reverse=True)  # the longest form first: no partial leftovers


def _hidden(secret: str) -> str:
    return mask(secret) if _KEY_SHAPE.match(secret.strip()) else "****"


def redact(text: str, *secrets: str | None) -> str:
    """`text` without the configured key (also as repr'd, e.g. `\\n` escaped), the `secrets`
    given, Stripe-key-shaped tokens or bearer tokens."""
    if not text:
        return text
    for secret in _secrets(secrets):
        if secret in text:
            text = text.replace(secret, _hidden(secret))
    text = _KEY_SHAPE.sub(lambda m: mask(m.group(0)), text)
    return _BEARER.sub(lambda m: m.group(1) + "****", text)


def redact_value(value: object, *secrets: str | None) -> object:
    """`value` with every string inside (dicts, lists) redacted; other values as they are."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, dict):
        return {k: redact_value(v, *secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, *secrets) for v in value)
    return value


class RedactingStream:
    """A text stream that redacts every write (the CLI's stdout and stderr)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def redact_standard_streams() -> None:
    """Route this process's stdout and stderr through `redact` (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
