"""The page transport: the environment's proxy, as the SDK's client honoured it, and pages cut short."""

from __future__ import annotations

import socket
import threading

import orjson
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets_tests.faults.servers import ScriptedApi
from stripe_assets_tests.ingest.loopback import list_api

CHARGES = get_resource("charges")
UNREACHABLE = "http://api.stripe.invalid"  # never resolves: only a proxy can answer for it


def _listing(seen: list[str]):
    def page(query: dict[str, str]) -> dict:
        seen.append(query.get("created[gte]", ""))
        return {"object": "list", "url": "/v1/charges", "has_more": False,
                "data": [{"id": "ch_1", "object": "charge", "created": 5}]}  # fmt: skip

    return list_api(page)


def test_requests_go_through_the_proxy_the_environment_names(monkeypatch):
    seen: list[str] = []
    proxy = _listing(seen)
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        got = StripeReader("sk_test_x", UNREACHABLE).list_window(CHARGES, 0, 10)
    finally:
        proxy.stop()
    assert [o["id"] for o in got] == ["ch_1"] and seen == ["0"]


def test_no_proxy_sends_requests_straight_to_the_api(monkeypatch):
    seen: list[str] = []
    proxy = _listing(seen)
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "api.stripe.invalid")
        reader = StripeReader("sk_test_x", UNREACHABLE, max_network_retries=0)
        with pytest.raises(StripeReadError, match=r"cannot reach the Stripe API at http://api.stripe.invalid"):
            reader.list_window(CHARGES, 0, 10)
    finally:
        proxy.stop()
    assert seen == []


def test_a_page_cut_off_mid_body_is_asked_for_again():
    # The first answer promises more bytes than it sends and closes: a network failure, retried
    # like any other (with a warning), never a page read short.
    body = orjson.dumps({"object": "list", "url": "/v1/charges", "has_more": False,
                         "data": [{"id": "ch_1", "object": "charge", "created": 5}]})  # fmt: skip
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (len(body) + 50)
        + body[:20],
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
    ]
    requests: list[bytes] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)

        def serve() -> None:
            for answer in answers:
                conn, _ = listener.accept()
                with conn:
                    requests.append(conn.recv(65536))
                    conn.sendall(answer)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        warnings: list[str] = []
        reader = StripeReader(
            "sk_test_x", f"http://127.0.0.1:{listener.getsockname()[1]}", warn=warnings.append, sleep=lambda s: None
        )
        stats = FetchStats()
        got = reader.list_window(CHARGES, 0, 10, stats)
        server.join(5)
    assert [o["id"] for o in got] == ["ch_1"]
    assert len(requests) == 2 and stats.requests == 2
    assert len(warnings) == 1 and "retrying in" in warnings[0] and "\n" not in warnings[0]


def test_an_api_base_with_a_path_keeps_it_and_names_the_host():
    # Requests to the API's own host skip the pool manager: the request line still carries the
    # base's path and the query as written, with the host and gzip asked for as before.
    asked: list[tuple[str, dict[str, str]]] = []

    def answer(path: str, headers: dict[str, str]) -> tuple[int, dict]:
        asked.append((path, headers))
        return 200, {"object": "list", "url": "/v1/charges", "has_more": False,
                     "data": [{"id": "ch_1", "object": "charge", "created": 5}]}  # fmt: skip

    api = ScriptedApi(answer)
    try:
        got = StripeReader("sk_test_x", f"{api.url}/stripe-proxy/").list_window(CHARGES, 0, 10)
    finally:
        api.stop()
    assert [o["id"] for o in got] == ["ch_1"] and len(asked) == 1
    path, headers = asked[0]
    assert path.startswith("/stripe-proxy/v1/charges?") and "created%5Bgte%5D=0" in path
    assert headers["Host"] == api.url.removeprefix("http://")
    assert "gzip" in headers["Accept-Encoding"] and headers["Authorization"] == "Bearer sk_test_x"
