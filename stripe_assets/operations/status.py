"""`status`: one line per dataflow — schedule, last run, last refresh, rows, error rate, next run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.config import Dataflow, DataflowsConfig
from stripe_assets.dataflows.schedules import describe_interval, next_tick
from stripe_assets.ingest.changes.cursor import Cursor, current_cursor
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import LOADED, PartitionLoad, count_rows, partition_loads, rollback_events
from stripe_assets.operations.asset_keys import AssetKeys
from stripe_assets.operations.instance import RunInfo, asset_runs
from stripe_assets.operations.text import fmt_count, fmt_duration, fmt_pct, fmt_time, render_table


@dataclass(frozen=True)
class WarehouseFacts:
    """What the warehouse holds for one resource."""

    rows: int | None = None  # None: no table yet
    quarantined: int | None = None
    loads: tuple[PartitionLoad, ...] = ()  # newest first
    last_rollback: datetime | None = None
    cursor: Cursor | None = None  # where the changes read from Stripe's events stand


@dataclass(frozen=True)
class DataflowStatus:
    dataflow: str
    resource: str
    group: str  # the resource's asset group (its domain)
    enabled: bool
    schedule: str
    last_run_id: str | None
    last_run_status: str | None
    last_run_at: datetime | None
    last_refresh_partition: str | None  # the newest partition holding loaded rows
    last_refresh_at: datetime | None  # when that partition was loaded
    last_rollback_at: datetime | None
    last_load_at: datetime | None  # the newest load of any partition, accepted or rejected
    rows: int | None
    quarantined: int | None
    error_rate_pct: float | None  # of the newest load that still counts (all its partitions)
    next_run: datetime | None
    changes: str = "events"  # the dataflow's `changes:` mode
    change_cursor: str | None = None  # the newest event applied (events mode); None: none yet
    change_cursor_event_at: datetime | None = None  # when Stripe created that event
    change_cursor_at: datetime | None = None  # when a load last read events (also when there were none)
    change_cursor_age_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


def warehouse_facts(warehouse: Warehouse, resources: list[str]) -> dict[str, WarehouseFacts]:
    facts: dict[str, WarehouseFacts] = {}
    with warehouse.connect(read_only=True) as conn:
        for resource in resources:
            spec = get_resource(resource)
            events = rollback_events(conn, resource)
            facts[resource] = WarehouseFacts(
                rows=count_rows(conn, spec.table),
                quarantined=count_rows(conn, spec.quarantine_table),
                loads=tuple(partition_loads(conn, resource)),
                last_rollback=events[0].at if events else None,
                cursor=current_cursor(conn, resource),
            )
    return facts


def _error_rate(loads: tuple[PartitionLoad, ...]) -> float | None:
    active = [load for load in loads if load.active]
    if not active:
        return None
    newest = [load for load in active if load.run_id == active[0].run_id]
    fetched = sum(load.records_fetched or 0 for load in newest)
    rejected = sum(load.records_rejected or 0 for load in newest)
    return round(100.0 * rejected / fetched, 4) if fetched else 0.0


def dataflow_status(
    dataflow: Dataflow, facts: WarehouseFacts, last_run: RunInfo | None, now: datetime
) -> DataflowStatus:
    loaded = [load for load in facts.loads if load.active and load.status == LOADED]
    newest_partition = max(loaded, key=lambda load: (load.partition, load.loaded_at), default=None)
    return DataflowStatus(
        dataflow=dataflow.name,
        resource=dataflow.resource,
        group=dataflow.declaration.group,
        enabled=dataflow.enabled,
        schedule=describe_interval(dataflow),
        last_run_id=last_run.run_id if last_run else None,
        last_run_status=last_run.status if last_run else None,
        last_run_at=(last_run.started or last_run.created) if last_run else None,
        last_refresh_partition=newest_partition.partition if newest_partition else None,
        last_refresh_at=newest_partition.loaded_at if newest_partition else None,
        last_rollback_at=facts.last_rollback,
        last_load_at=max((load.loaded_at for load in facts.loads), default=None),
        rows=facts.rows,
        quarantined=facts.quarantined,
        error_rate_pct=_error_rate(facts.loads),
        next_run=next_tick(dataflow, now) if dataflow.enabled else None,
        changes=dataflow.changes.mode or "off",
        change_cursor=facts.cursor.event_id if facts.cursor else None,
        change_cursor_event_at=(
            datetime.fromtimestamp(facts.cursor.event_created, UTC)
            if facts.cursor and facts.cursor.event_created is not None
            else None
        ),
        change_cursor_at=facts.cursor.recorded_at if facts.cursor else None,
        change_cursor_age_seconds=(  # a cursor with no event yet has no age
            round((now - facts.cursor.recorded_at).total_seconds(), 1)
            if facts.cursor and facts.cursor.event_id
            else None
        ),
    )


def collect_status(
    config: DataflowsConfig,
    warehouse: Warehouse,
    instance: dg.DagsterInstance | None,
    now: datetime,
    keys: AssetKeys | None = None,
) -> tuple[list[DataflowStatus], list[str]]:
    """Every dataflow's status, and notes on what could not be read (no warehouse, no instance).
    `keys`: the project's asset keys (None: the catalog's)."""
    notes: list[str] = []
    asset_key = keys or AssetKeys()
    resources = [flow.resource for flow in config.dataflows]
    facts: dict[str, WarehouseFacts] = {}
    if warehouse.exists():
        facts = warehouse_facts(warehouse, resources)
        if not any(f.loads or f.rows for f in facts.values()):
            notes.append(f"the warehouse {warehouse} holds no loads yet")
    else:
        notes.append(f"no warehouse at {warehouse} yet: nothing loaded")
    statuses = []
    any_runs = False
    for flow in config.dataflows:
        runs: list[RunInfo] = []
        if instance is not None:
            runs = asset_runs(instance, asset_key(flow.resource), 1, details=False)
            any_runs = any_runs or bool(runs)
        statuses.append(
            dataflow_status(flow, facts.get(flow.resource, WarehouseFacts()), runs[0] if runs else None, now)
        )
    if instance is not None and not any_runs:
        notes.append("the Dagster instance at $DAGSTER_HOME has no runs of these assets yet")
    return statuses, notes


def render_status(statuses: list[DataflowStatus], notes: list[str]) -> str:
    rows = []
    for s in statuses:
        last_run = f"{s.last_run_status} {fmt_time(s.last_run_at)}" if s.last_run_status else "-"
        refreshed = [f"{s.last_refresh_partition} at {fmt_time(s.last_refresh_at)}"] if s.last_refresh_at else []
        # "rolled back" only while the rollback is the newest thing that happened to the data
        if s.last_rollback_at and (s.last_load_at is None or s.last_rollback_at > s.last_load_at):
            refreshed.append(f"rolled back {fmt_time(s.last_rollback_at)}")
        refresh = ", ".join(refreshed) or "-"
        rows.append(
            [
                s.dataflow,
                s.group,
                "yes" if s.enabled else "no",
                s.schedule,
                last_run,
                refresh,
                fmt_count(s.rows),
                fmt_count(s.quarantined),
                fmt_pct(s.error_rate_pct),
                fmt_time(s.next_run) if s.next_run else "-",
                _changes_cell(s),
            ]
        )
    headers = (
        "DATAFLOW", "GROUP", "ENABLED", "SCHEDULE", "LAST RUN (UTC)", "LAST REFRESH (UTC)", "ROWS",
        "QUARANTINED", "ERROR RATE", "NEXT RUN (UTC)", "CHANGES (CURSOR, AGE)",
    )
    text = render_table(headers, rows) if rows else "no dataflows configured"
    return text + "".join(f"\nnote: {note}" for note in notes) + "\n"


def _changes_cell(s: DataflowStatus) -> str:
    """`events evt_1Q… (4.2 h old)`, `events: no events yet (read 2026-11-23 09:20:05)`, `events: never read`,
    `lookback`, `off`."""
    if s.changes != "events":
        return s.changes
    if s.change_cursor_at is None:
        return "events: never read"
    if s.change_cursor is None:
        return f"events: no events yet (read {fmt_time(s.change_cursor_at)})"
    return f"events {s.change_cursor} ({fmt_duration(s.change_cursor_age_seconds)} old)"
