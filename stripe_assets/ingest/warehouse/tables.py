"""The tables of the warehouse and their layout: a resource's table, quarantine and history, the
load log, and the fence row every write of a resource updates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import SYSTEM_COLUMNS, ColumnSpec
from stripe_assets.ingest.keys import ACCOUNT_COLUMN, ACCOUNT_COLUMNS

if TYPE_CHECKING:
    from stripe_assets.ingest.warehouse.windows import WindowWrite

LOADS_TABLE = "stripe_meta.loads"
HISTORY_SCHEMA = "stripe_history"
# Added to the rows a load displaces, so `rollback` can put them back exactly.
HISTORY_COLUMNS: dict[str, str] = {
    "_replaced_by_run": "VARCHAR",
    "_replaced_partition": "VARCHAR",
    "_replaced_at": "TIMESTAMPTZ",
}
LOADS_COLUMNS: dict[str, str] = {
    "resource": "VARCHAR",
    "partition": "VARCHAR",
    "window_start": "TIMESTAMPTZ",
    "window_end": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
    "status": "VARCHAR",  # loaded | rejected
    "records_fetched": "BIGINT",
    "records_loaded": "BIGINT",
    "records_rejected": "BIGINT",
    "error_rate_pct": "DOUBLE",
    "threshold_pct": "DOUBLE",
    "loaded_at": "TIMESTAMPTZ",
    # How new what the load wrote is: when the window's first page was asked for (a change run:
    # its newest event in the partition). The fence compares it, not when the load landed.
    "observed_at": "TIMESTAMPTZ",
    "account_id": "VARCHAR",  # whose objects (null: loaded before accounts were tracked: the key's own)
}


def ensure_tables(
    conn: duckdb.DuckDBPyConnection,
    spec: StripeResource,
    columns: Sequence[ColumnSpec],
    quarantine_columns: dict[str, str],
) -> None:
    resource = spec.name
    for schema in ("stripe", "stripe_quarantine", "stripe_meta", HISTORY_SCHEMA):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    row_columns = {c.name: c.type for c in columns} | SYSTEM_COLUMNS | ACCOUNT_COLUMNS
    quarantine_columns = quarantine_columns | ACCOUNT_COLUMNS
    ensure_table(conn, spec.table, row_columns)
    ensure_table(conn, spec.quarantine_table, quarantine_columns)
    ensure_table(conn, history_table(resource), row_columns | HISTORY_COLUMNS)
    ensure_table(conn, history_table(resource, quarantine=True), quarantine_columns | HISTORY_COLUMNS)
    ensure_table(conn, LOADS_TABLE, LOADS_COLUMNS)
    _ensure_fence(conn, resource)


def fence_table(resource: str) -> str:
    """One row per resource that every write of the resource updates in its transaction."""
    return f"stripe_meta.fence_{resource}"


def _ensure_fence(conn: duckdb.DuckDBPyConnection, resource: str) -> None:
    table = fence_table(resource)
    ensure_table(conn, table, {"run_id": "VARCHAR", "partitions": "VARCHAR", "written_at": "TIMESTAMPTZ"})
    conn.execute(f"INSERT INTO {table} SELECT NULL, NULL, now() WHERE NOT EXISTS (SELECT 1 FROM {table})")


def claim(conn: duckdb.DuckDBPyConnection, resource: str, writes: Sequence[WindowWrite]) -> None:
    """Make concurrent writes of one resource conflict. DuckLake checks commits optimistically
    but sees no conflict between two transactions that only insert (the first loads of a window):
    both would land, and rows would double. Both updating the fence row, the later commit fails
    and `retry_conflicts` runs it again on the committed state, replacing the window whole.
    (On the DuckDB file writers already take turns; the update costs nothing there.)"""
    run_ids = sorted({w.load_record["run_id"] for w in writes})
    conn.execute(
        f"UPDATE {fence_table(resource)} SET run_id = ?, partitions = ?, written_at = now()",
        [",".join(run_ids), ",".join(w.partition for w in writes)],
    )


def adopt_rows(conn: duckdb.DuckDBPyConnection, spec: StripeResource, platforms: set[str]) -> None:
    """Rows written before accounts were tracked are the key's own account's (`platform`)."""
    if len(platforms) != 1:
        return
    (platform,) = platforms
    history = history_table(spec.name), history_table(spec.name, quarantine=True)
    for table in (spec.table, spec.quarantine_table, *history):
        if ACCOUNT_COLUMN in table_columns(conn, table):
            conn.execute(f"UPDATE {table} SET {ACCOUNT_COLUMN} = ? WHERE {ACCOUNT_COLUMN} IS NULL", [platform])


def history_table(resource: str, *, quarantine: bool = False) -> str:
    """Where the rows displaced by each load are kept, for rollback."""
    return f"{HISTORY_SCHEMA}.{resource}{'_quarantine' if quarantine else ''}"


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The names of `table`'s columns (empty: no such table)."""
    schema, name = table.split(".")
    sql = "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
    return {str(row[0]) for row in conn.execute(sql, [schema, name]).fetchall()}


def ensure_table(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Create the table, or add the columns a changed mapping introduced (old ones are kept)."""
    existing = table_columns(conn, table)
    if not existing:
        body = ", ".join(f'"{c}" {t}' for c, t in columns.items())
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        return
    for column, type_ in columns.items():
        if column not in existing:
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {type_}')
