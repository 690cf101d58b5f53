"""Balance transactions settle: `status` goes from pending to available once `available_on` passes,
with no event. Each run re-reads the loaded partitions holding rows that are due, over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets.ingest.changes.settle import plan_settling
from stripe_assets.ingest.columns import default_columns

TXNS = (
    "  - {name: stripe_txns, resource: balance_transactions, start_time: 2026-10-01T00:10:00Z, "
    "history_start: 2026-10-01T00:00:00Z}\n"
)
DAYS = ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")


@pytest.fixture
def txn_project(any_backend_project):
    """The small project with a balance transactions dataflow, on the DuckDB file and on a DuckLake."""
    any_backend_project.dataflows.write_text(any_backend_project.dataflows.read_text() + TXNS)
    return any_backend_project


def _loaded(project) -> dict[str, tuple[dict, str]]:
    return {i: (json.loads(raw), partition) for i, raw, partition in project.query(
        "SELECT id, raw, _partition FROM stripe.balance_transactions")}  # fmt: skip


def _pending_due(rows: dict[str, tuple[dict, str]], now: int) -> dict[str, set[str]]:
    """Partition -> ids of the rows still pending whose available_on is at or before `now`."""
    found: dict[str, set[str]] = {}
    for object_id, (raw, partition) in rows.items():
        if raw["status"] == "pending" and raw["available_on"] <= now:
            found.setdefault(partition, set()).add(object_id)
    return found


def _logs(project, result) -> list[str]:
    with project.instance() as instance:
        return [e.user_message for e in instance.all_logs(result.run_id)]


def test_pending_rows_are_re_read_once_due_until_the_warehouse_equals_stripe(txn_project, live):
    assert txn_project.load(live, "balance_transactions", DAYS[0], DAYS[-1]).success
    pending = {i for i, (raw, _) in _loaded(txn_project).items() if raw["status"] == "pending"}
    assert pending, "the last days' card payments are not available yet"

    moved = live.advance(days=5)  # the emulator's clock stays before the real one
    assert moved.settled == len(pending) and live.now <= datetime.now(UTC).timestamp()
    due = _pending_due(_loaded(txn_project), live.now)
    assert {i for ids in due.values() for i in ids} == pending

    result = txn_project.load(live, "balance_transactions", DAYS[0])  # a run of any partition

    assert result.success
    rows = _loaded(txn_project)
    served = {o["id"]: o for o in live.objects("balance_transactions")}
    assert {i: raw for i, (raw, _) in rows.items()} == served
    assert not [i for i, (raw, _) in rows.items() if raw["status"] == "pending"]
    # The run says what it re-read: rows and partitions, in the log and on an observation.
    (line,) = [m for m in _logs(txn_project, result) if "re-reading" in m]
    keys = sorted(due)
    assert line == (
        f"balance_transactions: {len(pending)} rows still status 'pending' with available_on passed; "
        f"re-reading {len(keys)} partition{'s' * (len(keys) != 1)} ({', '.join(keys)}) from /v1/balance_transactions"
    )
    (observed,) = [
        e.event_specific_data.asset_observation.metadata
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    assert observed["settling_rows_due"].value == len(pending)
    assert observed["settling_partitions_reread"].value == keys
    with txn_project.instance() as instance:
        reloaded = {
            e.partition for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        }
        assert "rows due" in instance.get_run_by_id(result.run_id).tags["stripe_assets/settling_balance_transactions"]
    assert reloaded == {DAYS[0], *keys}

    # Nothing is due any more: the next run loads its own partition only and says nothing.
    again = txn_project.load(live, "balance_transactions", DAYS[1])
    assert again.success
    assert not [m for m in _logs(txn_project, again) if "re-reading" in m]
    assert {e.partition for e in again.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION} == {
        DAYS[1]
    }


MAPPINGS = {
    "default columns": "",
    "renamed and retyped": ", mapping: {rename: {status: state}, drop: [available_on], "
    "add: {funds_on: {path: available_on, type: BIGINT}}}",
    "dropped (read from raw)": ", mapping: {drop: [status, available_on]}",
}


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_only_rows_due_at_the_run_start_count_whatever_the_mapping(small_project, live, mapping):
    small_project.dataflows.write_text(
        small_project.dataflows.read_text() + TXNS.replace("}\n", MAPPINGS[mapping] + "}\n")
    )
    columns = load_dataflows(small_project.dataflows).for_resource("balance_transactions").columns()
    assert small_project.load(live, "balance_transactions", DAYS[0], DAYS[-1]).success
    rows = _loaded(small_project)
    times = sorted({raw["available_on"] for raw, _ in rows.values() if raw["status"] == "pending"})
    assert len(times) >= 2, "pending rows fall due at different midnights"
    for now in (times[0] - 1, times[0], times[-1]):
        expected = _pending_due(rows, now)
        at = datetime.fromtimestamp(now, UTC)
        plan = plan_settling(small_project.warehouse, get_resource("balance_transactions"), columns, at)
        assert plan is not None
        assert [w.key for w in plan.reread] == sorted(expected), now
        assert plan.rows_due == sum(map(len, expected.values())), now
    charges = get_resource("charges")
    assert expected and plan_settling(small_project.warehouse, charges, default_columns(charges)) is None
