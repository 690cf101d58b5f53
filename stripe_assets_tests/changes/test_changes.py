"""Changes over HTTP on a small account: events applied by any partition's load, deletions kept
through reloads, a key without events access, lookback, status and the config."""

from __future__ import annotations

import json
from types import SimpleNamespace

import dagster as dg
import pytest

from stripe_assets.dataflows.config import DataflowConfigError, parse_dataflows
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.changes.conftest import START
from stripe_assets_tests.conftest import day_window


def _changed_partitions(result) -> dict[str, tuple[int, int]]:
    found = {}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.event_specific_data.materialization.metadata
            if "rows_updated" in metadata:
                found[event.partition] = (metadata["rows_updated"].value, metadata["rows_deleted"].value)
    return found


def _rows(project, resource):
    return {i: (json.loads(raw), deleted) for i, raw, deleted in project.query(
        f"SELECT id, raw, _deleted_at FROM stripe.{resource}")}  # fmt: skip


def test_a_load_of_one_partition_applies_the_events_of_every_partition(any_backend_project, live):
    small_project = any_backend_project
    assert small_project.load(live, "customers", "2026-10-01", "2026-10-04").success
    before = small_project.rows("customers")
    live.advance(days=1, changes={"customer_updated": 12, "customer_deleted": 6})

    result = small_project.load(live, "customers", "2026-10-02")

    assert result.success
    changed = _changed_partitions(result)
    assert sum(d for _, d in changed.values()) == 6 and sum(u for u, _ in changed.values()) >= 6
    api = {o["id"]: o for o in live.objects("customers", include_hidden=True)}
    deleted = {e["data"]["object"]["id"]: e["data"]["object"] for e in live.events() if e["type"] == "customer.deleted"}
    rows = _rows(small_project, "customers")
    assert {i for i, (_, d) in rows.items() if d is not None} == set(deleted)
    for object_id, (raw, deleted_at) in rows.items():
        assert raw == (deleted[object_id] if deleted_at else api[object_id])
    with small_project.instance() as instance:
        tags = instance.get_run_by_id(result.run_id).tags
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert tags["stripe_assets/changes"] == "applied"
    assert any(m.startswith("customers changes: events read 18,") for m in logs)

    # Stripe no longer lists the deleted customers: reloading keeps their rows and marks.
    assert small_project.load(live, "customers", "2026-10-01", "2026-10-04").success
    assert _rows(small_project, "customers") == rows

    # Undo the reload and the change run: exactly the first load's rows; the events apply again.
    assert run_rollback(small_project.warehouse, RollbackRequest("customers", steps=2)) is not None
    assert small_project.rows("customers") == before
    assert small_project.load(live, "customers", "2026-10-03").success
    assert _rows(small_project, "customers") == rows
    assert small_project.duckdb.exists() == (small_project.lake is None)  # the lake held it all


def test_a_key_that_may_not_read_events_re_reads_and_names_the_permission(small_project, live, no_events_key):
    proxy = SimpleNamespace(api_key=live.api_key, url=no_events_key)
    assert small_project.load(proxy, "charges", "2026-10-01", "2026-10-04").success
    live.advance(days=1, changes={"charge_refunded": 10, "charge_updated": 10})

    result = small_project.load(proxy, "charges", "2026-10-04")

    assert result.success
    with small_project.instance() as instance:
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
    (line,) = [m for m in logs if "rak_event_read" in m]
    assert "HTTP 403" in line and "re-reading 4 loaded partitions (2026-10-01...2026-10-04)" in line
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    assert {c.partition for c in checks} >= {"2026-10-01", "2026-10-02", "2026-10-03"}
    assert all("rak_event_read" in c.metadata["changes_fallback"].value for c in checks)
    api = {o["id"]: o for o in live.objects("charges")}
    assert {i: raw for i, (raw, _) in _rows(small_project, "charges").items()} == api


def test_lookback_reloads_the_last_closed_partitions_and_off_never_reads_events(small_project, live):
    result = small_project.load(live, "prices", "2026-10-02")

    assert result.success
    with small_project.instance() as instance:
        loaded = instance.get_materialized_partitions(dg.AssetKey(["stripe", "prices"]))
    assert len(loaded) == 3 and "2026-10-02" in loaded  # its partition and the last two closed ones
    assert "/v1/events" not in live.requests_by_endpoint


def test_status_shows_each_dataflows_change_cursor_and_its_age(small_project, live):
    assert small_project.load(live, "customers", "2026-10-01").success
    live.advance(hours=5, changes={"customer_updated": 3})
    assert small_project.load(live, "customers", "2026-10-01").success
    newest = live.events()[0]["id"]

    status = {s["dataflow"]: s for s in small_project.cli_json("status")["dataflows"]}

    assert status["stripe_customers"]["change_cursor"] == newest
    assert 0 <= status["stripe_customers"]["change_cursor_age_seconds"] < 600
    assert status["stripe_charges"]["change_cursor"] is None and status["stripe_prices"]["changes"] == "lookback"
    text = small_project.cli("status").stdout
    assert f"events {newest} (" in text and "events: never read" in text

    # A load that found no events of its resource: no cursor event, so no age either.
    assert small_project.load(live, "charges", "2026-10-01").success
    charges = {s["dataflow"]: s for s in small_project.cli_json("status")["dataflows"]}["stripe_charges"]
    assert (charges["change_cursor"], charges["change_cursor_age_seconds"]) == (None, None)
    [line] = [x for x in small_project.cli("status").stdout.splitlines() if x.startswith("stripe_charges")]
    assert "events: no events yet (read " in line and " old)" not in line


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "changes: sometimes",
            "field 'changes.mode': 'sometimes' is not a changes mode (allowed: events, lookback, off)",
        ),
        ("changes: {mode: lookback}", "field 'changes.lookback': mode 'lookback' needs `lookback: N`"),
        ("changes: {mode: lookback, lookback: 0}", "field 'changes.lookback': 0 is not allowed"),
        ("changes: {lookback: 3}", "field 'changes.lookback': 3 is only used with mode 'lookback'"),
        ("changes: {mode: off, horizon_days: 7}", "field 'changes.horizon_days': 7 is only used with mode 'events'"),
        ("changes: {mode: events, horizon_days: -1}", "field 'changes.horizon_days': -1 is not allowed"),
    ],
)
def test_a_bad_changes_setting_is_one_line_naming_the_field(block, expected):
    text = f"dataflows:\n  - name: stripe_charges\n    resource: charges\n    {block}\n"
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(text)
    assert str(caught.value).startswith(f"dataflows.yaml: dataflow 'stripe_charges', {expected}")
    assert "\n" not in str(caught.value)


def test_balance_transactions_never_change_so_events_are_refused():
    text = "dataflows:\n  - name: txns\n    resource: balance_transactions\n    changes: events\n"
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(text)
    assert str(caught.value) == (
        "dataflows.yaml: dataflow 'txns', field 'changes.mode': 'events' is not allowed for balance_transactions: "
        "Stripe sends no events for them (they never change once created); use off (the default) or lookback"
    )
    defaults = {d.resource: d.changes.mode for d in parse_dataflows("").dataflows}
    assert defaults["balance_transactions"] == "off" and defaults["charges"] == "events"


def test_a_cursor_lost_to_a_restarted_api_is_named_as_such_not_as_the_retention(small_project, live):
    assert small_project.load(live, "customers", "2026-10-01", "2026-10-04").success
    live.advance(days=1, changes={"customer_updated": 5})
    assert small_project.load(live, "customers", "2026-10-04").success  # the cursor: the newest event
    # The API starts over: same account, its clock back at the start, a few events of its own.
    with start_emulator(EmulatorConfig(seed=7, start=START, days=4, per_day=30)) as restarted:
        restarted.advance(hours=1, changes={"customer_updated": 2})
        result = small_project.load(restarted, "customers", "2026-10-04")
    assert result.success
    [note] = [
        e.asset_observation_data.asset_observation.metadata["changes_fallback"].value
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
        and "changes_fallback" in e.asset_observation_data.asset_observation.metadata
    ]
    assert "dated after every event the API lists now" in note and "reset" in note
    assert "retention" not in note


def test_runs_counts_rows_changed_from_events_apart_from_the_records_loaded(small_project, live):
    first = small_project.load(live, "customers", "2026-10-01", "2026-10-03")
    assert first.success
    with small_project.instance() as instance:  # no changes: no tag to lengthen the run list
        assert not [t for t in instance.get_run_by_id(first.run_id).tags if t.startswith("stripe_assets/changes")]
    live.advance(hours=6, changes={"customer_updated": 9})
    result = small_project.load(live, "customers", "2026-10-04")
    assert result.success
    changed = _changed_partitions(result)
    served = len(live.listable_ids("customers", *day_window("2026-10-04")))

    [newest, _] = small_project.cli_json("runs", "customers")["runs"]

    assert newest["partitions"] == ["2026-10-04"] and newest["records_loaded"] == served
    assert newest["records_changed"] == sum(u + d for u, d in changed.values()) >= 1
    assert sorted(newest["partitions_changed"]) == sorted(changed)
    [line] = [x for x in small_project.cli("runs", "customers").stdout.splitlines() if newest["run_id"] in x]
    assert f" {served} " in line and f"{newest['records_changed']} in {len(changed)} partition" in line


def test_a_run_changing_several_resources_carries_one_short_tag_and_runs_shows_each(small_project, live):
    resources = ["customers", "charges"]
    assert small_project.load(live, resources, "2026-10-01", "2026-10-03").success
    live.advance(hours=6, changes={"customer_updated": 9, "charge_refunded": 8})
    result = small_project.load(live, resources, "2026-10-04")
    assert result.success
    with small_project.instance() as instance:
        tags = instance.get_run_by_id(result.run_id).tags
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
    about_changes = {tag: value for tag, value in tags.items() if tag.startswith("stripe_assets/changes")}
    assert about_changes == {"stripe_assets/changes": "applied"}
    changed: dict[str, int] = {}
    for event in result.all_events:  # the detail: each resource's change materializations
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.event_specific_data.materialization.metadata
            if "rows_updated" in metadata:
                resource = event.asset_key.path[-1]
                changed[resource] = changed.get(resource, 0) + metadata["rows_updated"].value
                changed[resource] += metadata["rows_deleted"].value
    assert sorted(changed) == sorted(resources) and all(changed.values())
    for resource in resources:  # ... its line in the run log, and its count in `runs`
        assert any(m.startswith(f"{resource} changes: events read ") for m in logs)
        [newest, *_] = small_project.cli_json("runs", resource)["runs"]
        assert newest["run_id"] == result.run_id and newest["records_changed"] == changed[resource]
