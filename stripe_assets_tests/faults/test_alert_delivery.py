"""Alert delivery keeps per-alert state: a failing or hanging channel loses nothing, resends
nothing every tick, and delivers later alerts in order once it answers."""

from __future__ import annotations

import json

import dagster as dg

from stripe_assets.alerts.status_feed import latest_storage_id
from stripe_assets_tests.alerts.servers import HANG
from stripe_assets_tests.alerts.stripe_like_assets import loading_asset
from stripe_assets_tests.alerts.test_sensor import deliveries, make_routes, start_cursor, tick


def backoff_elapsed(cursor: str) -> str:
    """The cursor as the sensor finds it once every retry backoff has passed."""
    state = json.loads(cursor)
    for channels in state.get("retry", {}).values():
        for retry in channels.values():
            retry["at"] = 0
    return json.dumps(state)


def run(instance, day: str) -> None:
    dg.materialize([loading_asset("charges")], instance=instance, partition_key=day)


def test_alerts_behind_a_timed_out_one_are_delivered_later_not_dropped(instance, alert_log, make_webhook):
    hook = make_webhook(HANG, HANG)  # hangs twice, then answers
    routes = make_routes(alert_log, {"ops": hook.url}, retries=1)
    cursor = start_cursor(instance, routes)
    run(instance, "2026-10-02")

    first = tick(instance, routes, cursor)
    second = tick(instance, routes, first.cursor)

    # The start alert timed out twice and is recorded failed; the success alert was never
    # written off as "not attempted": it went out with the next pass.
    assert [b["status"] for b in hook.delivered] == ["success"]
    ops = [d for d in deliveries(alert_log) if d["channel"] == "ops"]
    assert [(d["alert_status"], d["delivered"]) for d in ops] == [("start", False), ("success", True)]
    assert not any("not attempted" in (d["error"] or "") for d in ops)
    assert json.loads(second.cursor)["done"] == {}


def test_a_rate_limiting_channel_gets_each_alert_a_bounded_number_of_times(instance, alert_log, make_webhook):
    limited = make_webhook(default=(429, 20))  # Retry-After longer than a sensor pass
    routes = make_routes(alert_log, {"ops": limited.url}, retries=2)
    cursor = start_cursor(instance, routes)
    run(instance, "2026-10-02")

    for _ in range(4):  # four ticks in a row, within the backoff
        cursor = tick(instance, routes, cursor, budget_seconds=3).cursor

    # Each alert tried once: the oldest is not resent every tick, the later one is not starved.
    assert [b["status"] for b in limited.bodies] == ["start", "success"]
    state = json.loads(cursor)
    assert sorted(r["ops"]["attempts"] for r in state["retry"].values()) == [1, 1]

    for _ in range(6):  # the backoffs pass: each alert gets its remaining attempts, then fails
        cursor = tick(instance, routes, backoff_elapsed(cursor), budget_seconds=3).cursor
    assert sorted(b["status"] for b in limited.bodies) == ["start"] * 3 + ["success"] * 3
    final = [d for d in deliveries(alert_log) if d["channel"] == "ops" and d["retry_at"] is None]
    assert [(d["alert_status"], d["attempts"], d["delivered"]) for d in final] == [
        ("start", 3, False), ("success", 3, False),
    ]
    assert "3 attempts in all" in final[0]["error"]
    # Nothing left to retry, and the cursor has moved past the run's status changes: the newest one.
    assert json.loads(cursor) == {"after": latest_storage_id(instance), "done": {}, "retry": {}}
    assert latest_storage_id(instance) > state["after"]

    # The channel answers again: a later run's alerts arrive, in order.
    limited.default = 200
    run(instance, "2026-10-03")
    tick(instance, routes, cursor)
    assert [(b["partition"], b["status"]) for b in limited.delivered] == [
        ("2026-10-03", "start"), ("2026-10-03", "success"),
    ]


def test_a_failing_alert_does_not_hold_back_later_alerts_of_its_channel(instance, alert_log, make_webhook):
    flaky = make_webhook((503, 20), default=200)  # only the first request fails
    routes = make_routes(alert_log, {"ops": flaky.url}, retries=3)
    cursor = start_cursor(instance, routes)
    run(instance, "2026-10-02")
    run(instance, "2026-10-03")

    first = tick(instance, routes, cursor, budget_seconds=3)
    second = tick(instance, routes, first.cursor, budget_seconds=3)

    # The first alert waits out its backoff while the three after it go out, in order.
    assert [(b["partition"], b["status"]) for b in flaky.delivered] == [
        ("2026-10-02", "success"), ("2026-10-03", "start"), ("2026-10-03", "success"),
    ]
    third = tick(instance, routes, backoff_elapsed(second.cursor), budget_seconds=3)
    assert [(b["partition"], b["status"]) for b in flaky.delivered][-1] == ("2026-10-02", "start")
    assert json.loads(third.cursor)["done"] == {} and json.loads(third.cursor)["retry"] == {}


def _waits(alert_log) -> list[float]:
    """Per failed delivery to be retried: seconds from its record to its retry (the record is
    written a moment after the retry time is set: compared rounded to the second)."""
    from datetime import datetime

    return [
        (datetime.fromisoformat(d["retry_at"]) - datetime.fromisoformat(d["at"])).total_seconds()
        for d in deliveries(alert_log)
        if d["channel"] == "ops" and d["retry_at"] is not None
    ]


def test_a_failed_alert_waits_at_least_30_s_then_twice_as_long(
    instance, alert_log, make_webhook
):
    """README: tried again in later passes 'with a growing backoff (at least 30 s, honouring
    Retry-After)'; read from the retry times the alert log records, no clock waited on."""
    limited = make_webhook(default=(429, 20))  # asks for 20 s: less than the least backoff
    routes = make_routes(alert_log, {"ops": limited.url}, retries=3)
    cursor = start_cursor(instance, routes)
    run(instance, "2026-10-02")
    cursor = tick(instance, routes, cursor, budget_seconds=3).cursor
    first = _waits(alert_log)
    tick(instance, routes, backoff_elapsed(cursor), budget_seconds=3)
    second = _waits(alert_log)[len(first):]
    assert [round(w) for w in first] == [30]  # the start alert: at least 30 s, though 20 were asked
    # Its second failure waits twice as long (the success alert, if tried in this pass, 30 s).
    assert round(max(second)) == 60 and {round(w) for w in second} <= {30, 60}



def test_a_retry_after_longer_than_the_backoff_is_honoured(instance, alert_log, make_webhook):
    slower = make_webhook(default=(429, 120))
    routes = make_routes(alert_log, {"ops": slower.url}, retries=3)
    cursor = start_cursor(instance, routes)
    run(instance, "2026-10-02")
    tick(instance, routes, cursor, budget_seconds=3)
    waits = [round(w) for w in _waits(alert_log)]
    assert waits and set(waits) == {120}  # Retry-After: 120, not the 30 s backoff
