"""Loads keep the warehouse equal to Stripe over HTTP: 14 days loaded, the emulator moves 3 days
on with changes of every kind, and one partition's materialization brings every table up to date;
rollback undoes that; a cursor past the event retention makes the next load re-read instead."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta

import dagster as dg
import pytest

from stripe_assets.alerts.build import build_alert, run_target
from stripe_assets.alerts.routes import routes_from_dataflows
from stripe_assets.alerts.status_feed import StatusChange
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_emulator.lifecycles import CHANGE_KINDS
from stripe_assets_tests.conftest import UNPACED_API
from stripe_assets_tests.operations.harness import make_project

START = date(2026, 10, 1)
DAYS = 14
RESOURCES = ("charges", "subscriptions", "refunds", "balance_transactions", "customers", "prices")
DATAFLOWS = UNPACED_API + "dataflows:\n" + "".join(
    f"  - {{name: stripe_{r}, resource: {r}, start_time: 2026-10-01T00:10:00Z, history_start: 2026-10-01T00:00:00Z}}\n"
    for r in RESOURCES
)
# Each kind of change made this many times: enough for several pages of events per resource and
# for old-version events among them; the objects per day are sized so that each kind finds that
# many objects to change (trials ending need the most).
CHANGES_PER_KIND = 200
PER_DAY = {
    "charges": 900, "refunds": 840, "subscriptions": 650, "customers": 80, "prices": 40, "products": 160,
    "coupons": 40, "setup_intents": 160, "checkout_sessions": 1800, "tax_rates": 40, "promotion_codes": 40,
    "transfers": 40,
}
LAST = (START + timedelta(days=DAYS - 1)).isoformat()


def _api_state(emu, resource: str) -> dict[str, dict]:
    return {o["id"]: o for o in emu.objects(resource, include_hidden=True)}


def _assert_equal_to_api(project, emu, deleted_states: dict[str, dict]) -> None:
    """Every row equals the API's current object (raw and columns), deleted customers marked,
    no id twice, and every object the API lists in the loaded days has its row."""
    for resource in RESOURCES:
        api = _api_state(emu, resource)
        rows = project.query(f"SELECT id, raw, _deleted_at, created FROM stripe.{resource}")
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)), resource
        for object_id, raw, deleted_at, _ in rows:
            current = api.get(object_id)
            if deleted_at is None:
                assert json.loads(raw) == current, (resource, object_id)
            else:
                assert current is None or current.get("deleted") is True, (resource, object_id)
                # the state its deletion event carried (or the API's deleted object): never itself
                expected = deleted_states.get(object_id, current)
                assert expected is not None and json.loads(raw) == expected, (resource, object_id)
        listed = {o["id"] for o in emu.objects(resource, *_window(), include_hidden=False)}
        assert listed <= set(ids), (resource, len(listed - set(ids)))
    # typed columns follow raw
    mismatched = project.query(
        "SELECT count(*) FROM stripe.charges WHERE amount_refunded != (raw->>'amount_refunded')::BIGINT "
        "OR disputed != (raw->>'disputed')::BOOLEAN OR coalesce(description, '') != coalesce(raw->>'description', '')"
    )
    assert mismatched == [(0,)]


def _window():
    from datetime import datetime

    start = datetime(START.year, START.month, START.day, tzinfo=UTC)
    return start, start + timedelta(days=DAYS)


def _deleted_customers(emu) -> dict[str, dict]:
    return {
        e["data"]["object"]["id"]: e["data"]["object"] for e in emu.events() if e["type"] == "customer.deleted"
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    config = EmulatorConfig(seed=1, start=START, days=DAYS, per_day=PER_DAY)
    with start_emulator(config) as emu:
        project = make_project(tmp_path_factory.mktemp("changes"), emu)
        project.dataflows.write_text(DATAFLOWS)
        for resource in RESOURCES:
            assert project.load(emu, resource, START.isoformat(), LAST).success
        yield project, emu


@pytest.mark.slow
def test_one_partition_brings_every_table_up_to_date_and_rollback_undoes_it(world):
    project, emu = world
    before = {r: project.rows(r) for r in RESOURCES}
    # Only the last day's payouts (one per currency) are still in transit; disputes are rare.
    every_kind = {**dict.fromkeys(CHANGE_KINDS, CHANGES_PER_KIND), "payout_paid": 3, "payout_failed": 2,
                  "dispute_updated": 20, "dispute_closed": 20}
    made = emu.advance(days=3, changes=every_kind, old_api_version_share=0.1).to_json()
    assert made["changes"] == every_kind
    stale = project.query("SELECT count(*) FROM stripe.customers WHERE _deleted_at IS NOT NULL")
    assert stale == [(0,)]

    runs = {}
    for resource in RESOURCES:
        result = project.load(emu, resource, "2026-10-05")
        assert result.success, resource
        runs[resource] = result.run_id
        if resource == "customers":
            changed = [
                e.event_specific_data.materialization.metadata
                for e in result.all_events
                if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                and "rows_deleted" in e.event_specific_data.materialization.metadata
            ]
            deleted = made["changes"]["customer_deleted"]
            assert sum(m["rows_deleted"].value for m in changed) == deleted  # per partition, its own event
            assert sum(m["rows_updated"].value for m in changed) >= made["changes"]["customer_updated"] - deleted

    _assert_equal_to_api(project, emu, _deleted_customers(emu))
    marked_count = project.query("SELECT count(*) FROM stripe.customers WHERE _deleted_at IS NOT NULL")
    assert marked_count == [(made["changes"]["customer_deleted"],)]
    # old-version events were not trusted: their objects were retrieved
    assert emu.requests_by_endpoint.get("/v1/subscriptions/{id}", 0) > 0

    # reloading a window keeps deleted customers, marked
    marks = "SELECT id, _deleted_at FROM stripe.customers WHERE _deleted_at IS NOT NULL ORDER BY id"
    marked = project.query(marks)
    assert project.load(emu, "customers", START.isoformat(), LAST).success
    assert project.query(marks) == marked

    for resource in RESOURCES:
        request = RollbackRequest(resource, steps=2 if resource == "customers" else 1)
        assert run_rollback(project.warehouse, request) is not None
        assert project.rows(resource) == before[resource], resource

    # the next load applies the changes again
    for resource in RESOURCES:
        assert project.load(emu, resource, "2026-10-05").success
    _assert_equal_to_api(project, emu, _deleted_customers(emu))


@pytest.fixture
def small_world(tmp_path):
    with start_emulator(EmulatorConfig(seed=23, start=START, days=DAYS, per_day=60)) as emu:
        project = make_project(tmp_path, emu)
        project.dataflows.write_text(DATAFLOWS)
        for resource in ("customers", "charges"):
            assert project.load(emu, resource, START.isoformat(), LAST).success
        emu.advance(days=1, changes={"customer_updated": 30, "charge_refunded": 30})
        assert project.load(emu, "customers", "2026-10-05").success  # the cursor moves on
        yield project, emu


@pytest.mark.slow
def test_a_cursor_past_the_event_retention_re_reads_and_says_why(small_world):
    project, emu = small_world
    emu.advance(days=31, changes={"customer_updated": 50, "customer_deleted": 20, "charge_refunded": 50})
    assert project.query("SELECT count(*) FROM stripe_meta.change_cursors WHERE event_id IS NOT NULL")[0][0] > 0
    result = project.load(emu, "customers", "2026-10-05")
    assert result.success
    with project.instance() as instance:
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("older than the 30-day event retention" in m and "re-reading" in m for m in logs), "the log says why"
    (check,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.partition == "2026-10-05"
    ]
    assert "30-day event retention" in check.metadata["changes_fallback"].value
    with project.instance() as instance:
        run = instance.get_run_by_id(result.run_id)
        assert run.tags["stripe_assets/changes"] == "applied"  # the note is not a tag: the alert has it
        assert not [t for t in run.tags if t.startswith("stripe_assets/changes_")]
        routes = routes_from_dataflows(load_dataflows(project.dataflows))
        change = StatusChange(0, result.run_id, "success", 0.0)
        alert = build_alert(instance, run, change, run_target(instance, run, change, routes), routes)
        assert any("30-day event retention" in n for n in alert.notes)
    for resource in ("charges",):
        assert project.load(emu, resource, "2026-10-05").success
    api = _api_state(emu, "customers")
    rows = project.query("SELECT id, raw, _deleted_at FROM stripe.customers")
    for object_id, raw, deleted_at in rows:
        if deleted_at is None:
            assert json.loads(raw) == api[object_id]
        else:
            assert api.get(object_id, {"deleted": True}).get("deleted") is True
    listed = {o["id"] for o in emu.objects("customers", *_window(), include_hidden=False)}
    assert listed <= {r[0] for r in rows}
    # a fresh cursor: the next load reads events again
    again = project.load(emu, "customers", "2026-10-05")
    with project.instance() as instance:
        assert not [e for e in instance.all_logs(again.run_id) if "retention" in e.user_message]
