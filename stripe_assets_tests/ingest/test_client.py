"""The client against the emulator over real HTTP: paging, filters, retries and errors."""

from __future__ import annotations

import re
import socket

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.ingest.loopback import list_api

CHARGES, SUBSCRIPTIONS = get_resource("charges"), get_resource("subscriptions")


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_window_returns_what_stripe_lists_newest_first(emulator, resource):
    start, end = day_window("2026-10-02")
    _, end = day_window("2026-10-04")
    stats = FetchStats()
    got = StripeReader(emulator.api_key, emulator.url).list_window(get_resource(resource), start, end, stats)
    assert [o["id"] for o in got] == emulator.listable_ids(resource, start, end)
    assert stats.pages == max(1, -(-len(got) // 100))  # 100 per page
    assert stats.requests == stats.pages


def test_canceled_subscriptions_are_read_too(emulator):
    start, _ = day_window("2026-10-01")
    _, end = day_window("2026-10-06")
    statuses = {
        o["status"] for o in StripeReader(emulator.api_key, emulator.url).list_window(SUBSCRIPTIONS, start, end)
    }
    assert "canceled" in statuses


def test_rate_limited_pages_are_retried_until_they_succeed(make_emulator):
    emu = make_emulator(per_day=400, days=2, rate_limit=4)  # 4 requests/s for the whole account
    start, _ = day_window("2026-10-01")
    _, end = day_window("2026-10-02")
    stats = FetchStats()
    got = StripeReader(emu.api_key, emu.url).list_window(CHARGES, start, end, stats)
    assert [o["id"] for o in got] == emu.listable_ids("charges", start, end)
    assert stats.rate_limited > 0 and stats.requests > stats.pages
    # Every attempt is counted, and each 429 is retried once by the reader, not again by the SDK.
    assert stats.requests == emu.request_count == stats.pages + stats.rate_limited


def test_server_errors_are_retried_by_the_sdk(make_emulator):
    emu = make_emulator(per_day=300, days=1, error_every=3)
    start, end = day_window("2026-10-01")
    stats = FetchStats()
    got = StripeReader(emu.api_key, emu.url).list_window(CHARGES, start, end, stats)
    assert [o["id"] for o in got] == emu.listable_ids("charges", start, end)
    assert stats.server_errors > 0


def test_a_rejected_key_is_named_without_showing_it(emulator):
    key = "sk_test_thisIsNotTheRightKey123456"
    with pytest.raises(StripeReadError) as err:
        StripeReader(key, emulator.url).list_window(CHARGES, 0, 10)
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
        StripeReader("sk_test_x", f"http://127.0.0.1:{port}", max_network_retries=1).list_window(CHARGES, 0, 10)


def test_a_cursor_that_does_not_advance_fails_with_one_line():
    page = [{"id": f"ch_{i:04d}", "object": "charge", "created": 1_790_000_000 - i} for i in range(100)]
    calls = []

    def ignore_starting_after(query):
        calls.append(query)
        return {"object": "list", "url": "/v1/charges", "has_more": True, "data": page}

    api = list_api(ignore_starting_after)
    try:
        with pytest.raises(StripeReadError) as err:
            StripeReader("sk_test_x", api.url).list_window(CHARGES, 0, 2_000_000_000)
    finally:
        api.stop()
    message = str(err.value)
    assert "\n" not in message and "starting_after=ch_0099" in message and "does not advance" in message
    assert len(calls) == 2  # the first page, and the same page again for its cursor


def test_an_api_that_never_answers_fails_within_the_page_deadline_saying_so():
    warnings: list[str] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # accepts connections (the kernel does), never answers
        port = listener.getsockname()[1]
        reader = StripeReader(
            "sk_test_x", f"http://127.0.0.1:{port}", timeout_seconds=0.3, max_network_retries=2,
            page_deadline_seconds=30, warn=warnings.append,
        )
        with pytest.raises(StripeReadError) as err:
            reader.list_window(CHARGES, 0, 10)
    message = str(err.value)
    assert "\n" not in message and "timeout_seconds=0.3" in message and "3 attempts" in message
    assert len(warnings) == 2 and all("retrying in" in w for w in warnings)  # not in silence


def test_the_page_deadline_stops_retries_before_they_run_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        reader = StripeReader(
            "sk_test_x", f"http://127.0.0.1:{port}", timeout_seconds=0.3, max_network_retries=20,
            page_deadline_seconds=1.0,
        )
        with pytest.raises(StripeReadError) as err:
            reader.list_window(CHARGES, 0, 10)
    attempts = re.search(r"\((\d+) attempts over", str(err.value))
    assert attempts and 1 < int(attempts.group(1)) < 21  # stopped by the deadline, not the retries


def test_six_readers_throttled_at_one_request_a_second_all_succeed(make_emulator):
    # Retry-After: 1 on every 429; the readers share the key's budget, which halves on each
    # 429 burst, and their waits carry jitter: slow, not failed.
    emu = make_emulator(per_day=20, days=1, rate_limit=1)
    start, end = day_window("2026-10-01")
    results: dict[str, object] = {}

    def read(resource: str) -> None:
        stats = FetchStats()
        try:
            got = StripeReader(emu.api_key, emu.url).list_window(get_resource(resource), start, end, stats)
            results[resource] = ([o["id"] for o in got], stats)
        except Exception as exc:
            results[resource] = exc

    import threading

    threads = [threading.Thread(target=read, args=(r,)) for r in RESOURCE_NAMES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = {r: v for r, v in results.items() if isinstance(v, Exception)}
    assert not failed
    for resource in RESOURCE_NAMES:
        ids, _ = results[resource]
        assert ids == emu.listable_ids(resource, start, end)
    assert sum(stats.rate_limited for _, stats in results.values()) > 0


def _events(first: int, count: int) -> list[dict]:
    return [
        {"id": f"evt_{n:04d}", "object": "event", "type": "charge.updated", "created": 1_790_000_000 - n,
         "api_version": "2025-01-01", "data": {"object": {"id": f"ch_{n:04d}", "object": "charge"}}}
        for n in range(first, first + count)
    ]


@pytest.mark.parametrize("where", ["list", "events"])
def test_an_empty_page_saying_has_more_is_asked_again_then_fails_naming_the_cursor(where):
    """Never the end of the list: asked for three times, then one line naming endpoint and cursor."""
    from stripe_assets.catalog import get_resource
    from stripe_assets.ingest.changes.events import read_changes

    asked: list[str | None] = []
    first = _events(0, 100) if where == "events" else [
        {"id": f"ch_{i:04d}", "object": "charge", "created": 1_790_000_000 - i} for i in range(100)
    ]

    def page(query: dict[str, str]) -> dict:
        asked.append(query.get("starting_after"))
        data = [] if "starting_after" in query else first
        return {"object": "list", "url": "/v1/x", "has_more": True, "data": data}

    api = list_api(page)
    warnings: list[str] = []
    reader = StripeReader("sk_test_x", api.url, warn=warnings.append, sleep=lambda s: None)
    try:
        with pytest.raises(StripeReadError) as err:
            if where == "events":
                read_changes(reader, get_resource("charges"), None, FetchStats())
            else:
                reader.list_window(CHARGES, 0, 2_000_000_000)
    finally:
        api.stop()
    message, cursor = str(err.value), first[-1]["id"]
    path = "/v1/events" if where == "events" else "/v1/charges"
    assert "\n" not in message and f"{api.url}{path} answered starting_after={cursor}" in message, message
    assert "has_more=true and no objects 3 times" in message
    assert asked == [None, cursor, cursor, cursor] and len(warnings) == 2


def test_null_in_place_of_an_event_is_one_line_not_an_attribute_error():
    from stripe_assets.catalog import get_resource
    from stripe_assets.ingest.changes.events import read_changes

    api = list_api(lambda query: {"object": "list", "url": "/v1/events", "has_more": False,
                                  "data": [*_events(0, 3), None]})
    try:
        with pytest.raises(StripeReadError) as err:
            read_changes(StripeReader("sk_test_x", api.url), get_resource("charges"), None, FetchStats())
    finally:
        api.stop()
    assert str(err.value) == (
        "/v1/events listed null in place of an event (item 4 of the first page): the changes after it cannot be read"
    )


def test_a_lone_surrogate_in_an_event_rejects_only_that_objects_new_state():
    """The page is read; the event's object carries the reason into validation (quarantine)."""
    from stripe_assets.catalog import get_resource
    from stripe_assets.ingest.changes.events import read_changes
    from stripe_assets.ingest.validation.validate import validate_records

    events = _events(0, 3)
    events[1]["data"]["object"]["description"] = "caf\ud800"  # json.dumps writes the escape \ud800
    api = list_api(lambda query: {"object": "list", "url": "/v1/events", "has_more": False, "data": events})
    try:
        scan = read_changes(StripeReader("sk_test_x", api.url), get_resource("charges"), None, FetchStats())
    finally:
        api.stop()
    assert sorted(scan.changes) == ["ch_0000", "ch_0001", "ch_0002"]
    result = validate_records(get_resource("charges"), [scan.changes["ch_0001"].state])
    [failure] = result.failures
    assert (failure.id, failure.column, failure.check) == ("ch_0001", "description", "valid_unicode")
    assert failure.reason == "description holds a lone UTF-16 surrogate (caf\\ud800), which is not Unicode text"
