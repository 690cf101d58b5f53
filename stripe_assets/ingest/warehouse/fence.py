"""Fencing writes: a load never overwrites a newer load of its partitions, nor resurrects deleted data.

A run notes, before it fetches anything, the newest write of its resource (load or change run)
and the newest deletion of it (`stripe-assets delete --drop-data` leaves a tombstone in
`stripe_meta.deletions`). Every write transaction then checks, before touching a row:
- that the resource was not deleted since; otherwise the whole write is refused with one line,
  so a deletion wins over the run it raced;
- which of its partitions another run wrote since with a fetch (or changes) at least as new: the
  older fetch of those is set aside, not written, and the rest lands. So a step left running by
  a killed run cannot overwrite the rerun that replaced it, and two overlapping runs both land.
Rows are protected one by one as well (`_observed_at`, see `windows.py`); the fence keeps an
older fetch from replacing a partition's quarantine and load record. Plain SQL on the load log:
it works wherever the warehouse's tables live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from stripe_assets.ingest.warehouse.errors import WarehouseError, describe_warehouse_error
from stripe_assets.ingest.warehouse.lake import redact
from stripe_assets.ingest.warehouse.loads import CHANGED, LOADED, REJECTED
from stripe_assets.ingest.warehouse.store import Warehouse
from stripe_assets.ingest.warehouse.tables import LOADS_TABLE, catalog_columns, instant
from stripe_assets.ingest.warehouse.windows import WindowWrite

WRITES = (LOADED, REJECTED, CHANGED)  # the load log's entries that wrote a partition

DELETIONS_TABLE = "stripe_meta.deletions"


class SupersededError(WarehouseError):
    """The resource's data was deleted under a run: its write was refused."""


@dataclass(frozen=True)
class Fence:
    """What a run saw of its resource when it started."""

    resource: str
    run_id: str
    newest_load: datetime | None  # the resource's newest load or change run then (None: none yet)
    newest_deletion: datetime | None  # the resource's newest deletion then

    def check(self, conn: duckdb.DuckDBPyConnection, writes: Sequence[WindowWrite]) -> dict[str, str]:
        """See `check_fence` (what `Warehouse.apply` calls inside its transaction)."""
        return check_fence(conn, self, writes)


def _newest(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> datetime | None:
    return instant(conn, sql, params)


def take_fence(conn: duckdb.DuckDBPyConnection | None, resource: str, run_id: str) -> Fence:
    """The fence of a run starting now (`conn` None: no warehouse yet, nothing to see)."""
    load = deletion = None
    existing = catalog_columns(conn, (LOADS_TABLE, DELETIONS_TABLE)) if conn is not None else {}
    if conn is not None and LOADS_TABLE in existing:
        load = _newest(
            conn,
            f"SELECT max(loaded_at) FROM {LOADS_TABLE} WHERE resource = ? AND status IN (?, ?, ?)",
            [resource, *WRITES],
        )
    if conn is not None and DELETIONS_TABLE in existing:
        deletion = _newest(conn, f"SELECT max(deleted_at) FROM {DELETIONS_TABLE} WHERE resource = ?", [resource])
    return Fence(resource, run_id, load, deletion)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_fence(conn: duckdb.DuckDBPyConnection, fence: Fence, writes: Sequence[WindowWrite]) -> dict[str, str]:
    """Raise SupersededError when the resource was deleted after the fence was taken; return the
    partitions of `writes` another run wrote since with a newer fetch (partition -> that run),
    which this write sets aside. Call it inside the write transaction."""
    existing = catalog_columns(conn, (LOADS_TABLE, DELETIONS_TABLE))  # read in the transaction too
    if DELETIONS_TABLE in existing:
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
    if not writes or LOADS_TABLE not in existing:
        return {}
    # Written since the fence with a fetch at least as new as ours (a load from before fetches were
    # timed counts as newer; a change run that wrote no row, as older). The newest such writer per
    # partition. A run whose own fetch is newer writes: the rows it brings are the newer ones.
    observed = "l.observed_at" if "observed_at" in existing[LOADS_TABLE] else "NULL::TIMESTAMPTZ"
    conn.register("_fence_ours", _observed(writes))
    try:
        rows = conn.execute(
            f"""SELECT l.partition, arg_max(l.run_id, l.loaded_at) FROM {LOADS_TABLE} l
                JOIN _fence_ours o ON o.partition = l.partition
                WHERE l.resource = ? AND l.status IN (?, ?, ?) AND l.run_id <> ?
                  AND (?::TIMESTAMPTZ IS NULL OR l.loaded_at > ?::TIMESTAMPTZ)
                  AND (({observed} IS NULL AND l.status <> ?) OR o.observed_at IS NULL OR {observed} >= o.observed_at)
                GROUP BY l.partition""",
            [fence.resource, *WRITES, fence.run_id, fence.newest_load, fence.newest_load, CHANGED],
        ).fetchall()
    finally:
        conn.unregister("_fence_ours")
    return dict(sorted(rows))


def _observed(writes: Sequence[WindowWrite]) -> pa.Table:
    return pa.table(
        {
            "partition": pa.array([w.partition for w in writes], pa.string()),
            "observed_at": pa.array([w.observed_at for w in writes], pa.timestamp("us", tz="UTC")),
        }
    )


def left_to_newer_runs(resource: str, set_aside: dict[str, str]) -> str:
    """One line for the run log: which partitions this run left to which newer run."""
    parts = ", ".join(f"{partition} to run {run_id}" for partition, run_id in sorted(set_aside.items()))
    return (
        f"{resource}: a newer run wrote these partitions while this one read them; "
        f"its older fetch was set aside: {parts}"
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
    try:
        with warehouse.connect(read_only=True) as conn:
            return take_fence(conn, resource, run_id)
    except duckdb.Error as exc:  # a damaged file fails here first: named as a write's error would be
        raise WarehouseError(redact(describe_warehouse_error(exc, warehouse))) from None
