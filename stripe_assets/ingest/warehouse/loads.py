"""Reading the load log (`stripe_meta.loads`): which run wrote which partition, and what was undone.

A load is one run's write of one partition (status `loaded` or `rejected`). A rollback appends a
`rolled_back` row with the undone load's run and partition, so the log keeps every load and
shows which ones no longer count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from stripe_assets.ingest.warehouse import LOADS_TABLE
from stripe_assets.ingest.warehouse.tables import EPOCH, catalog_columns

LOADED = "loaded"
REJECTED = "rejected"
CHANGED = "changed"  # a run brought rows of the partition up to date from Stripe's events
ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class PartitionLoad:
    """One run's load of one partition (if a run wrote a partition twice, its latest write)."""

    partition: str
    run_id: str
    status: str  # loaded | rejected | changed
    loaded_at: datetime
    window_start: datetime | None
    window_end: datetime | None
    records_fetched: int | None
    records_loaded: int | None
    records_rejected: int | None
    error_rate_pct: float | None
    rolled_back_at: datetime | None  # set once a rollback undid this load

    @property
    def active(self) -> bool:
        return self.rolled_back_at is None


@dataclass(frozen=True)
class RollbackEvent:
    """One rollback: the loads (run, partition) it undid."""

    at: datetime
    undone: tuple[tuple[str, str], ...]

    @property
    def run_ids(self) -> list[str]:
        return list(dict.fromkeys(run for run, _ in self.undone))

    @property
    def partitions(self) -> list[str]:
        return sorted({partition for _, partition in self.undone})


def count(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> int:
    """The number a `SELECT count(...)` query answers."""
    row = conn.execute(sql, list(params)).fetchone()
    return int(row[0]) if row else 0


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the table (or view) `schema.name` exists."""
    return table in catalog_columns(conn, [table])


def partition_loads(conn: duckdb.DuckDBPyConnection, resource: str) -> list[PartitionLoad]:
    """Every load of `resource`, newest first, each with when it was rolled back (if it was)."""
    if not table_exists(conn, LOADS_TABLE):
        return []
    return logged_loads(conn, resource)


def logged_loads(conn: duckdb.DuckDBPyConnection, resource: str) -> list[PartitionLoad]:
    """`partition_loads`, the load log known to exist."""
    rows = conn.execute(
        f"""
        WITH log AS (SELECT * FROM {LOADS_TABLE} WHERE resource = ?),
        writes AS (
            SELECT partition, run_id,
                   arg_max(status, loaded_at) AS status,
                   max(loaded_at) AS loaded_at,
                   arg_max(window_start, loaded_at) AS window_start,
                   arg_max(window_end, loaded_at) AS window_end,
                   arg_max(records_fetched, loaded_at) AS records_fetched,
                   arg_max(records_loaded, loaded_at) AS records_loaded,
                   arg_max(records_rejected, loaded_at) AS records_rejected,
                   arg_max(error_rate_pct, loaded_at) AS error_rate_pct
            FROM log WHERE status IN ('{LOADED}', '{REJECTED}', '{CHANGED}')
            GROUP BY partition, run_id
        ),
        undone AS (
            SELECT partition, run_id, max(loaded_at) AS rolled_back_at
            FROM log WHERE status = '{ROLLED_BACK}'
            GROUP BY partition, run_id
        )
        SELECT w.partition, w.run_id, w.status, epoch_us(w.loaded_at), epoch_us(w.window_start),
               epoch_us(w.window_end), w.records_fetched, w.records_loaded, w.records_rejected, w.error_rate_pct,
               -- a run that wrote the partition again after being rolled back counts again
               epoch_us(CASE WHEN u.rolled_back_at >= w.loaded_at THEN u.rolled_back_at END)
        FROM writes w LEFT JOIN undone u USING (partition, run_id)
        ORDER BY w.loaded_at DESC, w.partition DESC
        """,
        [resource],
    ).fetchall()
    # Times read as microseconds (`tables.instant`): a load's prune step reads this log.
    return [_partition_load(*row) for row in rows]


def _partition_load(
    partition: str, run_id: str, status: str, at: int, start: int | None, end: int | None,
    fetched: int | None, loaded: int | None, rejected: int | None, rate: float | None, undone: int | None,
) -> PartitionLoad:  # fmt: skip
    loaded_at = EPOCH + timedelta(microseconds=at)
    window = _at(start), _at(end)
    return PartitionLoad(partition, run_id, status, loaded_at, *window, fetched, loaded, rejected, rate, _at(undone))


def _at(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def rollback_events(conn: duckdb.DuckDBPyConnection, resource: str) -> list[RollbackEvent]:
    """The rollbacks of `resource`, newest first (the rows of one rollback share its time)."""
    if not table_exists(conn, LOADS_TABLE):
        return []
    rows = conn.execute(
        f"""
        SELECT loaded_at, list(run_id ORDER BY partition), list(partition ORDER BY partition)
        FROM {LOADS_TABLE} WHERE resource = ? AND status = '{ROLLED_BACK}'
        GROUP BY loaded_at ORDER BY loaded_at DESC
        """,
        [resource],
    ).fetchall()
    return [RollbackEvent(at, tuple(zip(runs, partitions, strict=True))) for at, runs, partitions in rows]


def count_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """Rows in `table`, or None when it does not exist yet."""
    if not table_exists(conn, table):
        return None
    return count(conn, f"SELECT count(*) FROM {table}")
