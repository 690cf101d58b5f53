"""How long the versions kept for rollback live: the last N loads of each partition (and days).

Every load keeps the rows it displaced in `stripe_history`, so each load of a partition can be
undone. Pruning drops the displaced rows of loads beyond the retention and records, per
partition, the newest load it pruned (`stripe_meta.history_pruned`): rollback refuses to undo a
load at or before that point instead of restoring an incomplete state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.warehouse import history_table
from stripe_assets.ingest.warehouse.loads import logged_loads, table_exists
from stripe_assets.ingest.warehouse.tables import LOADS_TABLE, catalog_columns

PRUNED_TABLE = "stripe_meta.history_pruned"
DEFAULT_KEEP_VERSIONS = 10


class HistoryRetention(BaseModel):
    """Versions kept per partition for rollback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_versions: int = Field(
        DEFAULT_KEEP_VERSIONS, ge=1, description="Loads per partition that can be rolled back."
    )
    keep_days: float | None = Field(
        None, gt=0, description="Also drop versions of loads older than this many days."
    )


@dataclass(frozen=True)
class PruneReport:
    loads_pruned: int  # loads whose displaced rows were dropped
    rows_dropped: int  # history rows (table and quarantine) dropped


def ensure_pruned_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS stripe_meta")
    # One row per (resource, partition), kept so by `_mark_pruned` (no key constraint: DuckLake has none).
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {PRUNED_TABLE} (
            resource VARCHAR, partition VARCHAR, pruned_through TIMESTAMPTZ, pruned_at TIMESTAMPTZ)"""
    )


def pruned_through(conn: duckdb.DuckDBPyConnection, resource: str) -> dict[str, datetime]:
    """Per partition, the time of the newest load whose displaced rows were pruned."""
    if not table_exists(conn, PRUNED_TABLE):
        return {}
    return pruned_through_log(conn, resource)


def pruned_through_log(conn: duckdb.DuckDBPyConnection, resource: str) -> dict[str, datetime]:
    """`pruned_through`, its table known to exist."""
    rows = conn.execute(
        f"SELECT partition, pruned_through FROM {PRUNED_TABLE} WHERE resource = ?", [resource]
    ).fetchall()
    return dict(rows)


def prune_history(
    conn: duckdb.DuckDBPyConnection,
    spec: StripeResource,
    keep: int = DEFAULT_KEEP_VERSIONS,
    *,
    keep_days: float | None = None,
    now: datetime | None = None,
) -> PruneReport:
    """Drop the displaced rows of every load but the newest `keep` of each partition (and of
    loads older than `keep_days`), in one transaction of its own: call it after a load commits."""
    retention = HistoryRetention(keep_versions=keep, keep_days=keep_days)
    resource = spec.name
    table, quarantine = history_table(resource), history_table(resource, quarantine=True)
    oldest_kept = None
    if retention.keep_days is not None:
        oldest_kept = (now or datetime.now(UTC)) - timedelta(days=retention.keep_days)

    conn.execute("BEGIN TRANSACTION")
    try:
        existing = catalog_columns(conn, (table, quarantine, LOADS_TABLE, PRUNED_TABLE))  # one look-up
        if not (table in existing and quarantine in existing):
            conn.execute("COMMIT")
            return PruneReport(0, 0)
        already = pruned_through_log(conn, resource) if PRUNED_TABLE in existing else {}
        loads = logged_loads(conn, resource) if LOADS_TABLE in existing else []
        ranks: dict[str, int] = {}
        doomed: list[tuple[str, str, datetime]] = []
        for load in loads:  # newest first
            if not load.active:
                continue  # its displaced rows went back into the table when it was rolled back
            ranks[load.partition] = ranks.get(load.partition, 0) + 1
            too_many = ranks[load.partition] > retention.keep_versions
            too_old = oldest_kept is not None and load.loaded_at < oldest_kept
            done = load.partition in already and load.loaded_at <= already[load.partition]
            if (too_many or too_old) and not done:
                doomed.append((load.partition, load.run_id, load.loaded_at))
        if not doomed:
            conn.execute("COMMIT")
            return PruneReport(0, 0)
        dropped = 0
        conn.register(
            "_pruned",
            pa.table({"partition": [d[0] for d in doomed], "run_id": [d[1] for d in doomed]}),
        )
        try:
            for target in (table, quarantine):
                result = conn.execute(
                    f"""DELETE FROM {target} h WHERE EXISTS (
                        SELECT 1 FROM _pruned p
                        WHERE p.run_id = h._replaced_by_run AND p.partition = h._replaced_partition)"""
                ).fetchone()
                dropped += int(result[0]) if result else 0
        finally:
            conn.unregister("_pruned")
        ensure_pruned_table(conn)
        newest: dict[str, datetime] = {}
        for partition, _, loaded_at in doomed:
            newest[partition] = max(loaded_at, newest.get(partition, loaded_at))
        for partition, loaded_at in newest.items():
            _mark_pruned(conn, resource, partition, loaded_at)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return PruneReport(len(doomed), dropped)


def _mark_pruned(conn: duckdb.DuckDBPyConnection, resource: str, partition: str, loaded_at: datetime) -> None:
    """Upsert in plain SQL (update, else insert): works on the DuckDB file and on DuckLake."""
    conn.execute(
        f"""UPDATE {PRUNED_TABLE} SET pruned_through = greatest(pruned_through, ?), pruned_at = now()
            WHERE resource = ? AND partition = ?""",
        [loaded_at, resource, partition],
    )
    conn.execute(
        f"""INSERT INTO {PRUNED_TABLE} SELECT ?, ?, ?, now()
            WHERE NOT EXISTS (SELECT 1 FROM {PRUNED_TABLE} WHERE resource = ? AND partition = ?)""",
        [resource, partition, loaded_at, resource, partition],
    )
