"""Landing a change batch inside the load's transaction, with the displaced rows kept for rollback.

Only objects the warehouse is responsible for are written: those whose partition has been loaded
(a partition never loaded gets all its objects from its own first load) or that already have a
row. A change equal to the row already held (an event read twice) writes nothing, and neither
does one older than the row (`_observed_at`: another run wrote a newer state). Every row
replaced goes to `stripe_history` as if a load of its partition had displaced it, and each
partition touched gets a `changed` entry in the load log, so `stripe-assets rollback` undoes a
change run like any load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from stripe_assets.ingest.changes.batch import ChangeBatch, WindowOf
from stripe_assets.ingest.keys import with_account
from stripe_assets.ingest.warehouse import LOADS_TABLE, history_table
from stripe_assets.ingest.warehouse.loads import CHANGED, partition_loads


@dataclass
class PartitionChanges:
    partition: str
    rows_updated: int = 0
    rows_deleted: int = 0  # rows newly marked deleted
    rows_rejected: int = 0  # new states that failed validation (the row keeps its old state)
    observed_at: datetime | None = None  # the newest state written (the load log's `observed_at`)

    @property
    def any(self) -> bool:
        return bool(self.rows_updated or self.rows_deleted or self.rows_rejected)


@dataclass
class WrittenChanges:
    partitions: dict[str, PartitionChanges] = field(default_factory=dict)
    skipped: int = 0  # objects in partitions not loaded yet (their first load brings them)

    @property
    def rows_updated(self) -> int:
        return sum(p.rows_updated for p in self.partitions.values())

    @property
    def rows_deleted(self) -> int:
        return sum(p.rows_deleted for p in self.partitions.values())

    @property
    def rows_rejected(self) -> int:
        return sum(p.rows_rejected for p in self.partitions.values())


def write_changes(
    conn: duckdb.DuckDBPyConnection,
    batch: ChangeBatch,
    *,
    run_id: str,
    window_of: WindowOf,
    at: datetime | None = None,
    account: str | None = None,
) -> WrittenChanges:
    """Apply `batch` on `conn`, inside the caller's transaction; the tables must exist.
    `account`: whose objects changed (its rows carry it)."""
    resource = batch.spec.name
    table, quarantine_table, history = batch.spec.table, batch.spec.quarantine_table, history_table(resource)
    at = at or datetime.now(UTC)
    loaded = sorted({load.partition for load in partition_loads(conn, resource) if load.active})
    written = WrittenChanges()
    conn.register("_change_rows", with_account(batch.rows, account))
    conn.register("_change_marks", batch.marks)
    conn.register("_change_quarantine", with_account(batch.quarantine, account))
    conn.register("_loaded_partitions", pa.table({"partition": pa.array(loaded, pa.string())}))
    try:
        # New states, as new as what is held or newer, that differ from it, for objects the
        # warehouse keeps.
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE _effective AS
                SELECT c.* FROM _change_rows c LEFT JOIN {table} t ON t.id = c.id
                WHERE (t.id IS NOT NULL OR c._partition IN (SELECT partition FROM _loaded_partitions))
                  AND (t.id IS NULL OR t._observed_at IS NULL OR c._observed_at >= t._observed_at)
                  AND (t.id IS NULL OR t.raw::VARCHAR IS DISTINCT FROM c.raw
                       OR t._deleted_at IS DISTINCT FROM c._deleted_at)"""
        )
        # Rows kept as they are but marked deleted: the same row under this run.
        conn.execute(
            f"""INSERT INTO _effective BY NAME
                SELECT t.* REPLACE (m._deleted_at AS _deleted_at, ?::VARCHAR AS _run_id,
                                    ?::TIMESTAMPTZ AS _loaded_at, m._observed_at AS _observed_at)
                FROM {table} t JOIN _change_marks m ON t.id = m.id
                WHERE t._deleted_at IS NULL AND t.id NOT IN (SELECT id FROM _effective)
                  AND (t._observed_at IS NULL OR m._observed_at >= t._observed_at)""",
            [run_id, at],
        )
        conn.execute(
            f"""INSERT INTO {history} BY NAME
                SELECT t.*, ? AS _replaced_by_run, e._partition AS _replaced_partition, now() AS _replaced_at
                FROM {table} t JOIN (SELECT id, _partition FROM _effective) e ON t.id = e.id""",
            [run_id],
        )
        conn.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM _effective)")
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _effective")
        counts = conn.execute(
            """SELECT _partition, epoch(min(created))::BIGINT,
                      count(*) FILTER (WHERE _deleted_at IS NULL),
                      count(*) FILTER (WHERE _deleted_at IS NOT NULL), max(_observed_at)
               FROM _effective GROUP BY _partition"""
        ).fetchall()
        windows = dict(batch.windows)
        for partition, created, updated, deleted, newest in counts:
            written.partitions[partition] = PartitionChanges(partition, updated, deleted, observed_at=newest)
            if partition not in windows:
                window = window_of(int(created))
                if window is not None:
                    windows[partition] = window
        quarantined = conn.execute(
            """SELECT _partition, count(DISTINCT id) FROM _change_quarantine
               WHERE _partition IN (SELECT partition FROM _loaded_partitions)
                  OR id IN (SELECT id FROM _effective) GROUP BY _partition"""
        ).fetchall()
        if quarantined:
            conn.execute(
                f"""INSERT INTO {quarantine_table} BY NAME SELECT * FROM _change_quarantine
                    WHERE _partition IN (SELECT partition FROM _loaded_partitions)"""
            )
        for partition, rejected in quarantined:
            written.partitions.setdefault(partition, PartitionChanges(partition)).rows_rejected = rejected
        skipped = conn.execute(
            f"""SELECT count(*) FROM _change_rows
                WHERE _partition NOT IN (SELECT partition FROM _loaded_partitions)
                  AND id NOT IN (SELECT id FROM {table})"""
        ).fetchone()
        written.skipped = int(skipped[0]) if skipped else 0
        conn.execute("DROP TABLE _effective")
    finally:
        for name in ("_change_rows", "_change_marks", "_change_quarantine", "_loaded_partitions"):
            conn.unregister(name)
    for part in written.partitions.values():
        if not part.any:
            continue
        window = windows.get(part.partition)
        total = part.rows_updated + part.rows_deleted + part.rows_rejected
        conn.execute(
            f"""INSERT INTO {LOADS_TABLE} (resource, partition, window_start, window_end, run_id, status,
                    records_fetched, records_loaded, records_rejected, error_rate_pct, threshold_pct, loaded_at,
                    observed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)""",
            [
                resource,
                part.partition,
                window.start if window else None,
                window.end if window else None,
                run_id,
                CHANGED,
                total,
                part.rows_updated + part.rows_deleted,
                part.rows_rejected,
                round(100.0 * part.rows_rejected / max(total, 1), 4),
                at,
                part.observed_at,
            ],
        )
    return written
