"""The client against the emulator over real HTTP: paging, filters, retries and errors."""

from __future__ import annotations

import socket

import pytest

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets_tests.conftest import day_window


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_window_returns_what_stripe_lists_newest_first(emulator, resource):
    start, end = day_window("2026-10-02")
    _, end = day_window("2026-10-04")
    stats = FetchStats()
    got = StripeReader(emulator.api_key, emulator.url).list_window(resource, start, end, stats)
    assert [o["id"] for o in got] == emulator.listable_ids(resource, start, end)
    assert stats.pages == max(1, -(-len(got) // 100))  # 100 per page
    assert stats.requests == stats.pages


def test_canceled_subscriptions_are_read_too(emulator):
    start, _ = day_window("2026-10-01")
    _, end = day_window("2026-10-06")
    statuses = {
        o["status"] for o in StripeReader(emulator.api_key, emulator.url).list_window("subscriptions", start, end)
    }
    assert "canceled" in statuses


def test_rate_limited_pages_are_retried_until_they_succeed(make_emulator):
    emu = make_emulator(per_day=400, days=2, rate_limit=4)  # 4 requests/s for the whole account
    start, _ = day_window("2026-10-01")
    _, end = day_window("2026-10-02")
    stats = FetchStats()
    got = StripeReader(emu.api_key, emu.url).list_window("charges", start, end, stats)
    assert [o["id"] for o in got] == emu.listable_ids("charges", start, end)
    assert stats.rate_limited > 0 and stats.requests > stats.pages
    # Every attempt is counted, and each 429 is retried once by the reader, not again by the SDK.
    assert stats.requests == emu.request_count == stats.pages + stats.rate_limited


def test_server_errors_are_retried_by_the_sdk(make_emulator):
    emu = make_emulator(per_day=300, days=1, error_every=3)
    start, end = day_window("2026-10-01")
    stats = FetchStats()
    got = StripeReader(emu.api_key, emu.url).list_window("charges", start, end, stats)
    assert [o["id"] for o in got] == emu.listable_ids("charges", start, end)
    assert stats.server_errors > 0


def test_a_rejected_key_is_named_without_showing_it(emulator):
    key = "sk_test_thisIsNotTheRightKey123456"
    with pytest.raises(StripeReadError) as err:
        StripeReader(key, emulator.url).list_window("charges", 0, 10)
    assert "rejected the API key" in str(err.value) and "401" in str(err.value)
    assert key not in str(err.value) and "thisIsNotTheRightKey" not in repr(StripeReader(key, emulator.url))


def test_a_missing_key_says_which_variable_to_set():
    with pytest.raises(StripeReadError, match="STRIPE_API_KEY is not set"):
        StripeReader("", "http://127.0.0.1:1")


def test_an_unreachable_api_names_the_base_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(
        StripeReadError, match=rf"cannot reach the Stripe API at http://127.0.0.1:{port} \(STRIPE_API_BASE\)"
    ):
        StripeReader("sk_test_x", f"http://127.0.0.1:{port}", max_network_retries=1).list_window("charges", 0, 10)
