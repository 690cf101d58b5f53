"""Bringing earlier rows up to date before a load: plain Python, called by the asset.

    plan = plan_changes(reader, warehouse, get_resource("charges"), ...)   # reads events (or says why not)
    load_partitions(..., before_first_write=plan.write)       # lands them with the load

With a cursor Stripe still lists, the events since it become a `ChangeBatch`, written in the
transaction of the load's first windows together with the new cursor. Without one (a warehouse
loaded before changes were tracked, a cursor older than the event retention, a key that may not
read events), the plan lists the loaded partitions to re-read from the list endpoints instead,
within the dataflow's horizon, and why; the fresh cursor is taken before that re-read and
recorded once it landed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.changes.batch import ChangeBatch, WindowOf, build_batch, retrieve
from stripe_assets.ingest.changes.cursor import FRESH, Cursor, current_cursor, record_cursor
from stripe_assets.ingest.changes.events import (
    EVENTS_PATH,
    NO_EVENT_PERMISSION,
    EventScan,
    event_types,
    read_changes,
)
from stripe_assets.ingest.changes.write import WrittenChanges, write_changes
from stripe_assets.ingest.client import FetchStats, StripePermissionError, StripeReader
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import partition_loads


@dataclass
class ChangePlan:
    spec: StripeResource
    run_id: str
    window_of: WindowOf
    cursor: Cursor  # recorded with the changes (or after the re-read)
    previous: Cursor | None
    scan: EventScan | None = None
    batch: ChangeBatch | None = None
    reread: list[Window] = field(default_factory=list)  # loaded partitions to list again
    reason: str | None = None  # why events could not be used: the warehouse is re-read instead
    written: WrittenChanges | None = None
    stats: FetchStats = field(default_factory=FetchStats)
    seconds: float = 0.0
    account: str | None = None  # a connected account's changes (its own events and cursor)
    owner: str | None = None  # whose rows change (`account_id`; the key's own account's id for None)

    @property
    def fallback(self) -> bool:
        return self.reason is not None

    def write(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Land the changes and, unless a re-read follows, the new cursor (inside the load's transaction)."""
        if self.batch is not None and self.batch.objects:
            self.written = write_changes(
                conn, self.batch, run_id=self.run_id, window_of=self.window_of, account=self.owner or self.account
            )
        if not self.fallback:
            record_cursor(conn, self.resource, self.cursor, self.account)

    def finish(self, warehouse: Warehouse) -> None:
        """After a re-read landed: the fresh cursor taken before it becomes the current one."""
        if self.fallback:
            with warehouse.connect() as conn:
                record_cursor(conn, self.resource, self.cursor, self.account)

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def note(self) -> str | None:
        """One line for the run log, the check and the alert when the warehouse is re-read."""
        if not self.fallback:
            return None
        keys = [w.key for w in self.reread]
        span = f"{keys[0]}...{keys[-1]}" if len(keys) > 1 else (keys[0] if keys else "none")
        return (
            f"{self.resource}: changes not read from events: {self.reason}; re-reading "
            f"{len(keys)} loaded partition{'s' * (len(keys) != 1)} ({span}) "
            f"from {self.spec.path} instead"
        )

    def metadata(self) -> dict[str, Any]:
        """Figures for the run: events read, objects updated / deleted / retrieved, partitions re-read."""
        written = self.written or WrittenChanges()
        figures: dict[str, Any] = {
            "changes_events_read": self.scan.events_read if self.scan else 0,
            "changes_objects_updated": written.rows_updated,
            "changes_objects_deleted": written.rows_deleted,
            "changes_objects_rejected": written.rows_rejected,
            "changes_objects_retrieved": self.batch.retrieved if self.batch else 0,
            "changes_partitions_reread": len(self.reread),
            "changes_cursor": self.cursor.event_id or "(no events yet)",
        }
        if self.note:
            figures["changes_fallback"] = self.note
        return figures


def plan_changes(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeResource,
    *,
    columns: Sequence[ColumnSpec],
    window_of: WindowOf,
    run_id: str,
    strict_enums: bool = False,
    horizon: timedelta | None = None,
    now: datetime | None = None,
    account: str | None = None,
    new_account: bool = False,
    owner: str | None = None,
    state: tuple[Cursor | None, list[Window]] | None = None,
) -> ChangePlan:
    """Read what changed since the resource's cursor; nothing is written yet. `account`: a
    connected account's (None: the key's own); `new_account`: one read from its history start
    by this run, so nothing of it needs re-reading."""
    began = time.perf_counter()
    resource = spec.name
    now = now or datetime.now(UTC)
    previous, loaded = state if state is not None else _warehouse_state(warehouse, resource, account)
    if new_account:
        loaded = []
    stats = FetchStats()
    plan = ChangePlan(
        spec, run_id, window_of, Cursor(None, None, now, run_id, FRESH), previous, stats=stats,
        account=account, owner=owner,
    )
    if previous is None:
        plan.cursor = _fresh_cursor(reader, spec, stats, run_id, now)
        if loaded:
            plan.reason = "no change cursor yet (the partitions were loaded before changes were tracked)"
    else:
        plan.scan = read_changes(reader, spec, previous, stats, now=now)
        if plan.scan.stale:
            plan.reason = plan.scan.stale
            plan.scan = None
            plan.cursor = _fresh_cursor(reader, spec, stats, run_id, now)
        else:
            plan.cursor = plan.scan.next_cursor(previous, run_id, now)
            plan.batch = build_batch(
                plan.scan,
                spec,
                columns=columns,
                window_of=window_of,
                run_id=run_id,
                strict_enums=strict_enums,
                fetch=lambda object_id: retrieve(reader, spec, object_id, stats),
                observed=reader.last_observed,
            )
    if plan.fallback:
        oldest = now - horizon if horizon is not None else None
        plan.reread = [w for w in loaded if oldest is None or w.end > oldest]
    plan.seconds = time.perf_counter() - began
    return plan


def _warehouse_state(
    warehouse: Warehouse, resource: str, account: str | None = None
) -> tuple[Cursor | None, list[Window]]:
    """The current cursor and the loaded partitions (oldest first)."""
    return warehouse_states(warehouse, resource, [account])[account]


def warehouse_states(
    warehouse: Warehouse, resource: str, accounts: Sequence[str | None]
) -> dict[str | None, tuple[Cursor | None, list[Window]]]:
    """Each account's cursor and the loaded partitions, read in one connection."""
    if not warehouse.exists():
        return {account: (None, []) for account in accounts}
    with warehouse.connect(read_only=True) as conn:
        windows = {
            load.partition: Window(load.partition, load.window_start, load.window_end)
            for load in partition_loads(conn, resource)
            if load.active and load.window_start is not None and load.window_end is not None
        }
        loaded = sorted(windows.values(), key=lambda w: w.start)
        return {account: (current_cursor(conn, resource, account), loaded) for account in accounts}


def _fresh_cursor(reader: StripeReader, spec, stats: FetchStats, run_id: str, now: datetime) -> Cursor:
    """The newest event now: what a load starting now already accounts for."""
    try:
        page = reader.get_page(EVENTS_PATH, {"limit": 1, "types": event_types(spec)}, stats)
    except StripePermissionError:
        return Cursor(None, None, now, run_id, FRESH)  # the next load tries again, and says why
    stats.pages += 1
    data = page.get("data") or []
    if not data:
        return Cursor(None, None, now, run_id, FRESH)
    return Cursor(data[0]["id"], int(data[0]["created"]), now, run_id, FRESH)


def contiguous(windows: Sequence[Window]) -> list[list[Window]]:
    """Windows grouped into runs without gaps (each run is one paginated fetch)."""
    groups: list[list[Window]] = []
    for window in sorted({w.key: w for w in windows}.values(), key=lambda w: w.start):
        if groups and groups[-1][-1].end == window.start:
            groups[-1].append(window)
        else:
            groups.append([window])
    return groups


__all__ = ["NO_EVENT_PERMISSION", "ChangePlan", "contiguous", "plan_changes"]
