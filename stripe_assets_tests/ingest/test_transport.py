"""The page transport: the environment's proxy, as the SDK's client honoured it."""

from __future__ import annotations

import pytest

from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets_tests.ingest.loopback import list_api

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
        got = StripeReader("sk_test_x", UNREACHABLE).list_window("charges", 0, 10)
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
            reader.list_window("charges", 0, 10)
    finally:
        proxy.stop()
    assert seen == []
