"""GET requests to the Stripe API over one urllib3 connection pool shared by the reader's threads.

The SDK's `RequestsClient` spent about 4 ms of CPU per request before any object was read:
requests' `prepare_request`, the proxy settings read from the environment on every call, cookie
jars and hooks. A list page needs none of it: the URL is already encoded, the headers are fixed.
urllib3 (what requests itself sends with) keeps the connections alive per host and reads a page
in one call. What the SDK's client gave is kept: its CA bundle, the environment's proxy (read
once, `NO_PROXY` honoured), one timeout per attempt, gzip on the wire, and failures to connect
or read raised as the SDK's `APIConnectionError`, which the reader retries as before.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import stripe
import urllib3

# Up to this many idle connections kept per host: a load reads 12 pages in flight, and several
# loads may share a reader.
POOL_SIZE = 32


class _Counter(Protocol):
    def count_response(self, status: int) -> None: ...


class PageTransport:
    """Sends GETs and returns (body bytes, HTTP status, response headers); thread-safe.
    `stats_of`: where the calling thread counts each attempt's status (0: no answer)."""

    def __init__(self, api_base: str, timeout_seconds: float, stats_of: Callable[[], _Counter | None]):
        self._stats_of = stats_of
        self._timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds)
        common: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": POOL_SIZE,
            "block": False,  # more threads than POOL_SIZE open extra connections, not wait
            "retries": False,  # the reader retries, under each page's deadline
            "timeout": self._timeout,
            "ca_certs": stripe.ca_bundle_path,  # the bundle the SDK verifies Stripe with
        }
        proxy = _proxy_for(api_base)
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **common) if proxy else urllib3.PoolManager(**common)
        )
        # The API's own host is asked through its connection pool directly: the pool manager would
        # parse each URL and look its pool up again (~40 µs of CPU a request, a request per
        # customer for payment methods). Through a proxy, or to another host, it still decides.
        base = urlsplit(api_base)
        self._origin = f"{base.scheme}://{base.netloc}"
        self._direct: urllib3.HTTPConnectionPool | None = None
        if not proxy and base.scheme in ("http", "https") and "@" not in base.netloc:
            del common["num_pools"]
            if base.scheme == "http":
                del common["ca_certs"]
            self._direct = urllib3.connection_from_url(self._origin, **common)

    def get(self, url: str, headers: Mapping[str, str]) -> tuple[bytes, int, dict[str, str]]:
        headers = {**headers, "Accept-Encoding": "gzip, deflate"}
        try:
            if self._direct is not None and url.startswith(self._origin + "/"):
                response = self._direct.urlopen(
                    "GET", url[len(self._origin):], headers=headers, retries=False, redirect=False,
                    timeout=self._timeout, preload_content=True, assert_same_host=False,
                )
            else:
                response = self._pool.request("GET", url, headers=headers, preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._count(0)
            raise stripe.APIConnectionError(
                "Unexpected error communicating with Stripe.\n\n"
                f"(Network error: {type(exc).__name__}: {exc})",
                should_retry=True,
            ) from None
        self._count(response.status)
        return response.data, response.status, dict(response.headers)

    def _count(self, status: int) -> None:
        stats = self._stats_of()
        if stats is not None:
            stats.count_response(status)

    def close(self) -> None:
        self._pool.clear()
        if self._direct is not None:
            self._direct.close()


def _proxy_for(api_base: str) -> str | None:
    """The proxy the environment names for the API's scheme (`HTTPS_PROXY`, ...), unless
    `NO_PROXY` covers its host: what requests would have used, read once."""
    parts = urlsplit(api_base)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy
