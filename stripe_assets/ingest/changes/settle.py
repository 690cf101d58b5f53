"""Rows whose state Stripe changes with no Event once a time passes: which partitions to re-read.

A balance transaction is `pending` until its `available_on`, then `available`, and Stripe sends
no event for that. A resource declaring `settles` (`catalog/<resource>.py`) has each run find,
at its start, the loaded partitions holding rows still pending whose due time has passed; the
run re-reads them from the list endpoint with its own partitions (as the events fallback and
`changes: lookback` do), so those rows take the state Stripe shows now.

    plan = plan_settling(warehouse, get_resource("balance_transactions"), columns, now)
    windows += plan.reread
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.declaration import Settling
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import partition_loads, table_exists
from stripe_assets.ingest.warehouse.tables import table_columns


@dataclass
class SettlePlan:
    spec: StripeResource
    settling: Settling
    now: datetime  # rows due at or before this instant are re-read
    due: dict[str, int] = field(default_factory=dict)  # partition -> rows still pending, due by now
    reread: list[Window] = field(default_factory=list)  # the loaded partitions holding them

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def rows_due(self) -> int:
        return sum(self.due.get(w.key, 0) for w in self.reread)

    @property
    def note(self) -> str | None:
        """One line for the run log, when anything is re-read."""
        if not self.reread:
            return None
        s = self.settling
        keys = ", ".join(w.key for w in self.reread)
        return (
            f"{self.resource}: {self.rows_due} row{'s' * (self.rows_due != 1)} still {s.field} "
            f"'{s.pending}' with {s.after} passed; re-reading {len(self.reread)} partition"
            f"{'s' * (len(self.reread) != 1)} ({keys}) from {self.spec.path}"
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "settling_rows_due": self.rows_due,
            "settling_partitions_reread": [w.key for w in self.reread],
        }


def plan_settling(
    warehouse: Warehouse, spec: StripeResource, columns: Sequence[ColumnSpec], now: datetime | None = None
) -> SettlePlan | None:
    """The partitions to re-read now (None: the resource has nothing that settles)."""
    settling = spec.settles
    if settling is None:
        return None
    plan = SettlePlan(spec, settling, now or datetime.now(UTC))
    if not warehouse.exists():
        return plan
    table = spec.table
    with warehouse.connect(read_only=True) as conn:
        if not table_exists(conn, table):
            return plan
        plan.due = _due_by_partition(conn, table, settling, columns, plan.now)
        windows = {
            load.partition: Window(load.partition, load.window_start, load.window_end)
            for load in partition_loads(conn, spec.name)
            if load.active
            and load.partition in plan.due
            and load.window_start is not None
            and load.window_end is not None
        }
    plan.reread = sorted(windows.values(), key=lambda w: w.start)
    return plan


def _due_by_partition(
    conn: duckdb.DuckDBPyConnection, table: str, s: Settling, columns: Sequence[ColumnSpec], now: datetime
) -> dict[str, int]:
    """Pending rows whose due time has passed, counted by partition. The typed columns are read
    when the dataflow keeps them (a mapping may drop or retype them); `raw` otherwise."""
    present = table_columns(conn, table)
    by_path = {c.path: c for c in columns if c.name in present}  # a changed mapping lands with the next load
    value, due = by_path.get((s.field,)), by_path.get((s.after,))
    pending = f'"{value.name}"' if value is not None and value.type == "VARCHAR" else f"raw->>'$.{s.field}'"
    bound: datetime | int
    if due is not None and due.type == "TIMESTAMPTZ":
        when, bound = f'"{due.name}"', now
    elif due is not None and due.type == "BIGINT":
        when, bound = f'"{due.name}"', int(now.timestamp())
    else:
        when, bound = f"TRY_CAST(raw->>'$.{s.after}' AS BIGINT)", int(now.timestamp())
    rows = conn.execute(
        f"SELECT _partition, count(*) FROM {table} "
        f"WHERE {pending} = ? AND {when} <= ? AND _deleted_at IS NULL GROUP BY _partition",
        [s.pending, bound],
    ).fetchall()
    return {str(partition): int(n) for partition, n in rows}
