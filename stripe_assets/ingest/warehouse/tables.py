"""The tables of the warehouse and their layout: a resource's table, quarantine and history, the
load log, and the fence row every write of a resource updates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
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
    row_columns = {c.name: c.type for c in columns} | SYSTEM_COLUMNS | ACCOUNT_COLUMNS
    quarantine_columns = quarantine_columns | ACCOUNT_COLUMNS
    wanted = {
        spec.table: row_columns,
        spec.quarantine_table: quarantine_columns,
        history_table(resource): row_columns | HISTORY_COLUMNS,
        history_table(resource, quarantine=True): quarantine_columns | HISTORY_COLUMNS,
        LOADS_TABLE: LOADS_COLUMNS,
        fence_table(resource): FENCE_COLUMNS,
    }
    # One look at the catalog for every table (a look-up costs about a millisecond, and a small
    # load's fixed cost is a few dozen of them): only what is missing is created or added.
    existing = catalog_columns(conn, wanted)
    missing = [table for table in wanted if table not in existing]
    for schema in dict.fromkeys(table.split(".")[0] for table in missing):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    zstd = bool(missing) and zstd_text(conn)
    for table, table_columns_ in wanted.items():
        ensure_table(conn, table, table_columns_, existing=existing.get(table, set()), zstd=zstd)
    _ensure_fence_row(conn, resource)


# JSON columns are compressed with zstd where the file has it: `raw` (about 2.3 KB a charge) then
# checkpoints at about half the CPU of DuckDB's default choice (FSST) in a quarter of the space,
# and so do large mapped objects (a subscription's `items`); small ones (`metadata`) cost the same.
# Other text keeps DuckDB's choice (dictionary, FSST).
ZSTD_STORAGE = (1, 2)  # the first storage version that compresses text with zstd


def zstd_text(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database in use compresses text with zstd: a DuckDB file of storage version
    1.2 or later. Not a file created before (DuckDB would store such a column uncompressed, and
    writing one would upgrade the file past what older DuckDBs open), nor a DuckLake (Parquet)."""
    row = conn.execute(
        "SELECT type, tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if row is None or row[0] != "duckdb" or not row[1]:
        return False
    digits = str(row[1]).lstrip("v").rstrip("+").split(".")
    try:
        return tuple(int(d) for d in digits[:2]) >= ZSTD_STORAGE
    except ValueError:
        return False


def fence_table(resource: str) -> str:
    """One row per resource that every write of the resource updates in its transaction."""
    return f"stripe_meta.fence_{resource}"


FENCE_COLUMNS = {"run_id": "VARCHAR", "partitions": "VARCHAR", "written_at": "TIMESTAMPTZ"}


def _ensure_fence_row(conn: duckdb.DuckDBPyConnection, resource: str) -> None:
    table = fence_table(resource)
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
    tables = (spec.table, spec.quarantine_table, *history)
    existing = catalog_columns(conn, tables)
    for table in tables:
        if ACCOUNT_COLUMN in existing.get(table, ()):
            conn.execute(f"UPDATE {table} SET {ACCOUNT_COLUMN} = ? WHERE {ACCOUNT_COLUMN} IS NULL", [platform])


def history_table(resource: str, *, quarantine: bool = False) -> str:
    """Where the rows displaced by each load are kept, for rollback."""
    return f"{HISTORY_SCHEMA}.{resource}{'_quarantine' if quarantine else ''}"


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The names of `table`'s columns (empty: no such table)."""
    return catalog_columns(conn, [table]).get(table, set())


def catalog_columns(conn: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, set[str]]:
    """The column names of each of `tables` (`schema.name`) that exists; a table or view missing
    from the answer does not exist.

    Which exist comes from `duckdb_tables()`/`duckdb_views()`, their columns from
    `pragma_table_info` of those only (it raises for a missing table, which would abort a write's
    transaction). `duckdb_columns()` answers in one query but lists the system catalog's columns
    too: 8-10 ms the first time in a connection, where this costs 3-4 ms, and a load makes
    several look-ups in connections of their own."""
    pairs = [table.split(".") for table in tables]
    if not pairs:
        return {}
    wanted = ", ".join(f"({_quoted(schema)}, {_quoted(name)})" for schema, name in pairs)
    found = conn.execute(
        f"SELECT schema_name, table_name FROM duckdb_tables() WHERE (schema_name, table_name) IN ({wanted}) "
        f"UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        f"WHERE NOT internal AND (schema_name, view_name) IN ({wanted})"
    ).fetchall()
    if not found:
        return {}
    columns = " UNION ALL ".join(
        f"SELECT {_quoted(f'{schema}.{name}')}, name FROM pragma_table_info({_quoted(_identifier(schema, name))})"
        for schema, name in found
    )
    try:
        rows = conn.execute(columns).fetchall()
    except duckdb.CatalogException:
        # Dropped by another writer between the two statements (only possible outside a transaction,
        # on a shared DuckLake): one consistent answer from the whole catalog instead.
        return _all_catalog_columns(conn, wanted)
    result: dict[str, set[str]] = {}
    for table, column in rows:
        result.setdefault(str(table), set()).add(str(column))
    return result


def _all_catalog_columns(conn: duckdb.DuckDBPyConnection, wanted: str) -> dict[str, set[str]]:
    rows = conn.execute(
        "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
        f"WHERE (schema_name, table_name) IN ({wanted})"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(str(table), set()).add(str(column))
    return found


def _identifier(schema: str, name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


def instant(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> datetime | None:
    """The moment (UTC) a `SELECT max(<TIMESTAMPTZ>)` query answers, None for NULL. Read as
    microseconds: DuckDB's first TIMESTAMPTZ handed to Python costs a process ~12 ms of CPU
    (pytz lists its time zones), a tenth of a small load's."""
    row = conn.execute(f"SELECT epoch_us(v) FROM ({sql}) AS t(v)", list(params)).fetchone()
    if row is None or row[0] is None:
        return None
    return EPOCH + timedelta(microseconds=int(row[0]))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ensure_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, str],
    *,
    existing: set[str] | None = None,
    zstd: bool = False,
) -> None:
    """Create the table, or add the columns a changed mapping introduced (old ones are kept).
    `existing`: the table's columns as the caller read them (empty: no such table);
    `zstd`: a new table compresses its JSON columns with zstd (see `zstd_text`)."""
    if existing is None:
        existing = table_columns(conn, table)
    if not existing:
        body = ", ".join(
            f'"{c}" {t}' + (" USING COMPRESSION zstd" if zstd and t == "JSON" else "") for c, t in columns.items()
        )
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        return
    for column, type_ in columns.items():
        if column not in existing:
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {type_}')
