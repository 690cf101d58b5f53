"""The alert sensor against real Dagster runs, a real webhook endpoint and the alert log."""

from __future__ import annotations

import json
import logging
import time

import dagster as dg
import pytest

from stripe_assets.alerts.alert_log import read_records
from stripe_assets.alerts.routes import AlertRoutes, routes_from_dataflows
from stripe_assets.alerts.status_feed import fetch_status_changes
from stripe_assets.alerts.tick import run_alert_tick
from stripe_assets.dagster.alerts import SENSOR_NAME, build_alerts_sensor
from stripe_assets.dataflows.config import DataflowsConfig
from stripe_assets_tests.alerts.servers import HANG
from stripe_assets_tests.alerts.stripe_like_assets import (
    THRESHOLD_MESSAGE,
    crashing_asset,
    loading_asset,
    threshold_failing_asset,
)


def make_routes(alert_log, hooks: dict[str, str], flows: list[dict] | None = None, **webhook) -> AlertRoutes:
    channels: dict[str, dict[str, object]] = {"log": {"type": "log", "path": str(alert_log)}}
    for name, url in hooks.items():
        channels[name] = {"type": "webhook", "url": url, "timeout_seconds": 1.0, "backoff_seconds": 0.05, **webhook}
    flows = flows or [
        {"name": "stripe_charges", "resource": "charges", "alerts": {"channels": ["log", *hooks]}},
        {"name": "stripe_refunds", "resource": "refunds", "alerts": {"channels": ["log", *hooks]}},
    ]
    return routes_from_dataflows(
        DataflowsConfig.model_validate(
            {"dataflows": flows, "channels": channels, "ui_base_url": "http://dagster.example:3000/"}
        )
    )


def tick(instance, routes, cursor=None, **kwargs):
    sensor = build_alerts_sensor(lambda: routes, **kwargs)
    data = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return data


def start_cursor(instance, routes) -> str:
    """The cursor after a first evaluation on an instance with no runs yet."""
    return tick(instance, routes).cursor


def deliveries(alert_log):
    return [r for r in read_records(alert_log) if r["record"] == "delivery"]


def test_successful_run_sends_one_start_and_one_success_alert(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    result = dg.materialize(
        [loading_asset("charges", loaded=380, rejected=20)], instance=instance, partition_key="2026-10-02"
    )

    data = tick(instance, routes, cursor)

    assert [b["status"] for b in hook.delivered] == ["start", "success"]
    start, success = hook.delivered
    run_id = result.run_id
    assert start["alert_id"] == f"{run_id}:start" and success["alert_id"] == f"{run_id}:success"
    assert success["dataflows"] == ["stripe_charges"] and success["resources"] == ["charges"]
    assert success["partition"] == "2026-10-02"
    assert success["run_url"] == f"http://dagster.example:3000/runs/{run_id}"
    assert (success["records_loaded"], success["records_rejected"], success["error_rate_pct"]) == (380, 20, 5.0)
    assert success["duration_seconds"] >= 0 and success["ended_at"] >= success["started_at"]
    assert start["ended_at"] is None and start["records_loaded"] is None
    assert success["error"] is None
    # Slack-compatible readable text
    assert "SUCCESS stripe_charges" in success["text"] and "380 loaded, 20 rejected (5% invalid)" in success["text"]
    assert f"/runs/{run_id}" in success["text"]
    # the log channel persisted both alerts, and every delivery is recorded
    alerts = [r for r in read_records(alert_log) if r["record"] == "alert"]
    assert [a["status"] for a in alerts] == ["start", "success"]
    assert sorted((d["channel"], d["alert_status"], d["delivered"]) for d in deliveries(alert_log)) == [
        ("log", "start", True),
        ("log", "success", True),
        ("ops", "start", True),
        ("ops", "success", True),
    ]
    assert "4 delivered, 0 failed" in data.skip_message


def test_second_evaluation_with_returned_cursor_sends_nothing_again(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")
    first = tick(instance, routes, cursor)
    assert hook.attempts == 2

    again = tick(instance, routes, first.cursor)
    assert hook.attempts == 2
    assert "0 alert(s)" in again.skip_message

    # A later run is still picked up from the same cursor: nothing skipped either.
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-03")
    tick(instance, routes, again.cursor)
    assert [b["partition"] for b in hook.delivered] == ["2026-10-02", "2026-10-02", "2026-10-03", "2026-10-03"]


def test_pass_replayed_after_its_cursor_was_lost_does_not_resend(instance, alert_log, make_webhook):
    """The process died after delivering but before the new cursor was stored."""
    hook = make_webhook(default=500)
    healthy = make_webhook()
    routes = make_routes(alert_log, {"flaky": hook.url, "ops": healthy.url}, retries=0)
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")
    tick(instance, routes, cursor)  # its returned cursor is "lost"
    assert len(healthy.delivered) == 2 and hook.attempts == 1

    replay = tick(instance, routes, cursor)

    assert len(healthy.delivered) == 2  # delivered ones are not sent again ...
    assert hook.attempts == 2  # ... the failed channel gets another chance
    # log and ops: nothing resent; the success alert waits, untried, for the channel to answer
    assert "0 delivered, 1 failed, 1 pending" in replay.skip_message


def test_cursor_survives_a_new_instance_object_on_the_same_home(tmp_path, alert_log, make_webhook):
    """A daemon restart: same storage, fresh process state, only the stored cursor carries over."""
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    home = tmp_path / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as first_life:
        cursor = start_cursor(first_life, routes)
        dg.materialize([loading_asset("charges")], instance=first_life, partition_key="2026-10-02")
        cursor = tick(first_life, routes, cursor).cursor
    with dg.instance_for_test(temp_dir=str(home)) as second_life:
        dg.materialize([loading_asset("charges")], instance=second_life, partition_key="2026-10-04")
        tick(second_life, routes, cursor)
    assert [(b["partition"], b["status"]) for b in hook.delivered] == [
        ("2026-10-02", "start"),
        ("2026-10-02", "success"),
        ("2026-10-04", "start"),
        ("2026-10-04", "success"),
    ]


def test_threshold_failure_alert_carries_the_message_and_failed_step(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    result = dg.materialize(
        [threshold_failing_asset()], instance=instance, partition_key="2026-10-03", raise_on_error=False
    )
    assert not result.success

    tick(instance, routes, cursor)

    assert [b["status"] for b in hook.delivered] == ["start", "failure"]
    failure = hook.delivered[1]
    assert failure["error"] == THRESHOLD_MESSAGE
    assert failure["failed_step"] == "stripe__charges"
    assert failure["error_rate_pct"] == 7.5
    assert "FAILURE stripe_charges" in failure["text"]
    assert f"Error in step stripe__charges: {THRESHOLD_MESSAGE}" in failure["text"]


def test_crash_alert_shows_the_user_error_not_dagsters_wrapper(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    dg.materialize([crashing_asset("refunds")], instance=instance, partition_key="2026-10-03", raise_on_error=False)

    tick(instance, routes, cursor)

    failure = hook.delivered[-1]
    assert failure["error"] == "KeyError: 'balance_transaction'"
    assert failure["failed_step"] == "stripe__refunds"


def test_run_of_two_dataflows_sends_one_alert_naming_both(instance, alert_log, make_webhook):
    hook_a, hook_b = make_webhook(), make_webhook()
    routes = make_routes(
        alert_log,
        {"a": hook_a.url, "b": hook_b.url},
        flows=[
            {"name": "stripe_charges", "resource": "charges", "alerts": {"send": ["success"], "channels": ["a"]}},
            {
                "name": "stripe_refunds",
                "resource": "refunds",
                "alerts": {"send": ["start", "success"], "channels": ["a", "b"]},
            },
        ],
    )
    cursor = start_cursor(instance, routes)
    dg.materialize(
        [loading_asset("charges", loaded=10), loading_asset("refunds", loaded=5, rejected=5)],
        instance=instance,
        partition_key="2026-10-02",
    )

    tick(instance, routes, cursor)

    # channel a: wanted by both dataflows, still one alert per status
    assert [b["status"] for b in hook_a.delivered] == ["start", "success"]
    assert [b["status"] for b in hook_b.delivered] == ["start", "success"]
    for body in hook_a.delivered + hook_b.delivered:
        assert body["dataflows"] == ["stripe_charges", "stripe_refunds"]
        assert body["resources"] == ["charges", "refunds"]
    assert (hook_a.delivered[1]["records_loaded"], hook_a.delivered[1]["records_rejected"]) == (15, 5)


def test_ranged_run_reports_its_partition_range(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    dg.materialize(
        [loading_asset("charges", loaded=50)],
        instance=instance,
        tags={"dagster/asset_partition_range_start": "2026-10-01", "dagster/asset_partition_range_end": "2026-10-03"},
    )
    tick(instance, routes, cursor)
    success = hook.delivered[-1]
    assert (success["partition_range_start"], success["partition_range_end"]) == ("2026-10-01", "2026-10-03")
    assert success["records_loaded"] == 150
    assert "Partition: 2026-10-01...2026-10-03" in success["text"]


def test_disabled_alerts_are_not_sent(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(
        alert_log,
        {"ops": hook.url},
        flows=[
            {"name": "stripe_charges", "resource": "charges", "alerts": {"send": [], "channels": ["ops"]}},
            {"name": "stripe_refunds", "resource": "refunds", "alerts": {"send": ["failure"], "channels": ["ops"]}},
        ],
    )
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")
    dg.materialize([loading_asset("refunds")], instance=instance, partition_key="2026-10-02")
    dg.materialize([crashing_asset("charges")], instance=instance, partition_key="2026-10-02", raise_on_error=False)

    data = tick(instance, routes, cursor)

    assert hook.attempts == 0
    assert deliveries(alert_log) == []
    assert "0 alert(s)" in data.skip_message
    # Positive control: the same sensor and cursor do send what was asked for (a refunds failure).
    failed = dg.materialize(
        [crashing_asset("refunds")], instance=instance, partition_key="2026-10-02", raise_on_error=False
    )
    tick(instance, routes, data.cursor)
    assert [(b["status"], b["run_id"]) for b in hook.delivered] == [("failure", failed.run_id)]


def test_runs_of_other_assets_are_ignored(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)

    @dg.asset(key=["reports", "charges"])
    def unrelated() -> None:
        pass

    dg.materialize([unrelated], instance=instance)
    data = tick(instance, routes, cursor)
    assert hook.attempts == 0
    # Positive control: a run of a dataflow's asset right after it is alerted.
    ours = dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")
    tick(instance, routes, data.cursor)
    assert {b["run_id"] for b in hook.delivered} == {ours.run_id} and hook.attempts == 2


def test_failing_channel_is_retried_then_logged_while_others_deliver(instance, alert_log, make_webhook):
    broken, healthy = make_webhook(default=500), make_webhook()
    routes = make_routes(alert_log, {"broken": broken.url, "healthy": healthy.url}, retries=2)
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")

    data = tick(instance, routes, cursor)

    assert [b["status"] for b in healthy.delivered] == ["start", "success"]
    # The start alert: 1 attempt + 2 retries, then recorded as failed. The success alert is not
    # tried against a channel already known to be down in this batch: it waits for the next.
    assert broken.attempts == 3
    failed = [d for d in deliveries(alert_log) if not d["delivered"]]
    assert [(d["channel"], d["alert_status"], d["attempts"]) for d in failed] == [("broken", "start", 3)]
    assert "HTTP 500" in failed[0]["error"] and "3 attempts" in failed[0]["error"]
    assert "1 failed, 1 pending" in data.skip_message
    # the next evaluation gives the success alert its own attempts; failures are final
    second = tick(instance, routes, data.cursor)
    failed = [d for d in deliveries(alert_log) if not d["delivered"]]
    assert [(d["alert_status"], d["attempts"]) for d in failed] == [("start", 3), ("success", 3)]
    third = tick(instance, routes, second.cursor)
    assert broken.attempts == 6 and len(healthy.delivered) == 2
    assert json.loads(third.cursor)["done"] == {} and "0 pending" in second.skip_message


def test_client_error_is_not_retried(instance, alert_log, make_webhook):
    rejecting = make_webhook(default=400)
    routes = make_routes(alert_log, {"ops": rejecting.url}, retries=3)
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")

    tick(instance, routes, cursor)

    assert rejecting.attempts == 2  # one per alert, no retries
    assert all("HTTP 400" in d["error"] for d in deliveries(alert_log) if d["channel"] == "ops")


def test_hanging_channel_times_out_and_others_deliver(instance, alert_log, make_webhook):
    hanging, healthy = make_webhook(default=HANG), make_webhook()
    routes = make_routes(alert_log, {"hanging": hanging.url, "healthy": healthy.url}, retries=1)
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")

    started = time.monotonic()
    tick(instance, routes, cursor)
    elapsed = time.monotonic() - started

    # 2 attempts of 1 s, one short backoff; the second alert waits for the next pass (channel down).
    # Each hang lasts 30 s, so anything under one hang shows the timeout cut it, however loaded.
    assert elapsed < 25, elapsed
    assert [b["status"] for b in healthy.delivered] == ["start", "success"]
    failed = [d for d in deliveries(alert_log) if not d["delivered"]]
    assert [(d["channel"], d["alert_status"]) for d in failed] == [("hanging", "start")]
    assert "no answer within 1.0 s" in failed[0]["error"]


def test_tick_budget_leaves_the_rest_pending_and_the_next_tick_sends_it_once(instance, alert_log, make_webhook):
    slow = make_webhook()
    routes = make_routes(alert_log, {"ops": slow.url})
    cursor = start_cursor(instance, routes)
    for day in ("2026-10-02", "2026-10-03", "2026-10-04"):
        dg.materialize([loading_asset("charges")], instance=instance, partition_key=day)

    # a zero budget starts nothing: every alert stays pending, the cursor does not move past them
    first = tick(instance, routes, cursor, budget_seconds=0)
    assert slow.attempts == 0 and "12 pending" in first.skip_message  # 6 alerts x (log, ops)

    second = tick(instance, routes, first.cursor)
    third = tick(instance, routes, second.cursor)
    assert [(b["partition"], b["status"]) for b in slow.delivered] == [
        (d, s) for d in ("2026-10-02", "2026-10-03", "2026-10-04") for s in ("start", "success")
    ]
    assert "0 alert(s)" in third.skip_message


def test_partially_delivered_batch_resumes_only_missing_channels(instance, alert_log, make_webhook):
    """Channels already done for a change (interrupted tick) are in the cursor and not sent again."""
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")
    changes = fetch_status_changes(instance, after_storage_id=json.loads(cursor)["after"], limit=10)
    assert [c.status for c in changes] == ["start", "success"]
    interrupted = json.dumps(
        {
            "after": json.loads(cursor)["after"],
            "done": {str(changes[0].storage_id): ["log", "ops"], str(changes[1].storage_id): ["ops"]},
        }
    )

    data = tick(instance, routes, interrupted)

    assert hook.attempts == 0
    assert [(d["channel"], d["alert_status"]) for d in deliveries(alert_log)] == [("log", "success")]
    assert json.loads(data.cursor) == {"after": changes[1].storage_id, "done": {}, "retry": {}}


def test_first_evaluation_alerts_recent_runs_but_not_old_history(instance, alert_log, make_webhook):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    dg.materialize([loading_asset("charges")], instance=instance, partition_key="2026-10-02")

    data = tick(instance, routes, None)  # sensor just turned on, run finished a moment ago
    assert [b["status"] for b in hook.delivered] == ["start", "success"]

    # with no lookback the same history is skipped: only runs after turning on count
    fresh = run_alert_tick(instance, None, routes, logger=logging.getLogger("test"), initial_lookback_seconds=0)
    assert fresh.alerts == [] and json.loads(fresh.cursor)["after"] == json.loads(data.cursor)["after"]
    assert len(hook.delivered) == 2


def test_sensor_is_running_by_default_and_ticks_often():
    from stripe_assets.definitions import defs

    sensor = defs().resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds <= 30


@pytest.mark.parametrize("runs", [8])
def test_many_runs_finishing_at_once_are_all_alerted_in_one_tick(instance, alert_log, make_webhook, runs):
    hook = make_webhook()
    routes = make_routes(alert_log, {"ops": hook.url})
    cursor = start_cursor(instance, routes)
    for i in range(runs):
        dg.materialize([loading_asset("charges")], instance=instance, partition_key=f"2026-10-{i + 1:02d}")
    tick(instance, routes, cursor)  # one tick: no alert is left for a later one
    assert len(hook.delivered) == 2 * runs
    assert len({b["alert_id"] for b in hook.delivered}) == 2 * runs
