"""Fencing writes: a load never overwrites a newer load of its partitions, nor resurrects deleted data.

A run notes, before it fetches anything, the newest load of its resource and the newest deletion
of it (`stripe-assets delete --drop-data` leaves a tombstone in `stripe_meta.deletions`). Every
write transaction then checks, before touching a row, that no other run loaded one of its
partitions since and that the resource was not deleted since; otherwise the write is refused
with one line. So a step left running by a killed run cannot overwrite the rerun that replaced
it, and a deletion wins over the run it raced. Plain SQL on the load log: it works wherever the
warehouse's tables live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from stripe_assets.ingest.warehouse.loads import LOADED, REJECTED, table_exists
from stripe_assets.ingest.warehouse.store import LOADS_TABLE, Warehouse, WarehouseError

DELETIONS_TABLE = "stripe_meta.deletions"


class SupersededError(WarehouseError):
    """The warehouse changed under a run (a newer load, a deletion): its write was refused."""


@dataclass(frozen=True)
class Fence:
    """What a run saw of its resource when it started."""

    resource: str
    run_id: str
    newest_load: datetime | None  # the resource's newest load then (None: none yet)
    newest_deletion: datetime | None  # the resource's newest deletion then

    def check(self, conn: duckdb.DuckDBPyConnection, partitions: list[str]) -> None:
        """See `check_fence` (what `Warehouse.apply` calls inside its transaction)."""
        check_fence(conn, self, partitions)


def _newest(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> datetime | None:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def take_fence(conn: duckdb.DuckDBPyConnection | None, resource: str, run_id: str) -> Fence:
    """The fence of a run starting now (`conn` None: no warehouse yet, nothing to see)."""
    load = deletion = None
    if conn is not None and table_exists(conn, LOADS_TABLE):
        load = _newest(
            conn,
            f"SELECT max(loaded_at) FROM {LOADS_TABLE} WHERE resource = ? AND status IN (?, ?)",
            [resource, LOADED, REJECTED],
        )
    if conn is not None and table_exists(conn, DELETIONS_TABLE):
        deletion = _newest(conn, f"SELECT max(deleted_at) FROM {DELETIONS_TABLE} WHERE resource = ?", [resource])
    return Fence(resource, run_id, load, deletion)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_fence(conn: duckdb.DuckDBPyConnection, fence: Fence, partitions: list[str]) -> None:
    """Raise SupersededError when the resource was deleted, or one of `partitions` loaded by
    another run, after the fence was taken. Call it inside the write transaction."""
    if table_exists(conn, DELETIONS_TABLE):
        deleted = _newest(
            conn,
            f"SELECT max(deleted_at) FROM {DELETIONS_TABLE} WHERE resource = ? AND (? IS NULL OR deleted_at > ?)",
            [fence.resource, fence.newest_deletion, fence.newest_deletion],
        )
        if deleted is not None:
            raise SupersededError(
                f"{fence.resource}: its data was deleted (stripe-assets delete --drop-data) at "
                f"{_utc(deleted)}, after run {fence.run_id} started: nothing of this run "
                "was written after that"
            )
    if not partitions or not table_exists(conn, LOADS_TABLE):
        return
    marks = ", ".join("?" * len(partitions))
    newer = conn.execute(
        f"""SELECT partition, run_id, loaded_at FROM {LOADS_TABLE}
            WHERE resource = ? AND status IN (?, ?) AND run_id <> ? AND partition IN ({marks})
              AND (? IS NULL OR loaded_at > ?)
            ORDER BY loaded_at DESC LIMIT 1""",
        [fence.resource, LOADED, REJECTED, fence.run_id, *partitions, fence.newest_load, fence.newest_load],
    ).fetchone()
    if newer is not None:
        partition, run_id, loaded_at = newer
        raise SupersededError(
            f"{fence.resource} {partition}: run {run_id} loaded it at {_utc(loaded_at)}, "
            f"after run {fence.run_id} started: not overwriting the newer load with this run's older fetch"
        )


def record_deletion(conn: duckdb.DuckDBPyConnection, resource: str) -> None:
    """The tombstone of a deletion: runs that started before it will not write afterwards."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS stripe_meta")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {DELETIONS_TABLE} (resource VARCHAR, deleted_at TIMESTAMPTZ)")
    conn.execute(f"INSERT INTO {DELETIONS_TABLE} VALUES (?, now())", [resource])


def read_fence(warehouse: Warehouse, resource: str, run_id: str) -> Fence:
    """The fence of a run starting now, read from the warehouse (none yet: nothing to see).

    `Warehouse.exists`, not the file path: a lake with its catalog in Postgres has no local file,
    and a fence read as empty would refuse every reload of a partition another run loaded."""
    if not warehouse.exists():
        return take_fence(None, resource, run_id)
    with warehouse.connect(read_only=True) as conn:
        return take_fence(conn, resource, run_id)
