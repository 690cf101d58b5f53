"""Deleting a dataflow's data: its tables, quarantine, history and load log rows, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.warehouse import LOADS_TABLE, Warehouse, history_table
from stripe_assets.ingest.warehouse.fence import record_deletion
from stripe_assets.ingest.warehouse.history import PRUNED_TABLE
from stripe_assets.ingest.warehouse.loads import count, count_rows, table_exists


@dataclass(frozen=True)
class DataFootprint:
    """What a resource holds in the warehouse: rows per table that would be dropped."""

    tables: dict[str, int]  # existing table -> rows
    load_log_rows: int  # rows of stripe_meta.loads

    @property
    def empty(self) -> bool:
        return not self.tables and not self.load_log_rows

    def describe(self) -> list[str]:
        lines = [f"drop {table} ({rows:,} rows)" for table, rows in self.tables.items()]
        if self.load_log_rows:
            lines.append(f"delete its {self.load_log_rows:,} rows of {LOADS_TABLE}")
        return lines


def resource_tables(resource: str) -> list[str]:
    spec = get_resource(resource)
    return [
        spec.table,
        spec.quarantine_table,
        history_table(resource),
        history_table(resource, quarantine=True),
    ]


def footprint(conn: duckdb.DuckDBPyConnection, resource: str) -> DataFootprint:
    tables = {}
    for table in resource_tables(resource):
        rows = count_rows(conn, table)
        if rows is not None:
            tables[table] = rows
    log_rows = 0
    if table_exists(conn, LOADS_TABLE):
        log_rows = count(conn, f"SELECT count(*) FROM {LOADS_TABLE} WHERE resource = ?", [resource])
    return DataFootprint(tables, int(log_rows))


def read_footprint(warehouse: Warehouse, resource: str) -> DataFootprint:
    if not warehouse.exists():
        return DataFootprint({}, 0)
    with warehouse.connect(read_only=True) as conn:
        return footprint(conn, resource)


def drop_resource_data(warehouse: Warehouse, resource: str) -> DataFootprint:
    """Drop everything the warehouse holds for `resource` (and nothing else); all or nothing."""
    if not warehouse.exists():
        return DataFootprint({}, 0)
    with warehouse.connect() as conn:
        conn.execute("BEGIN TRANSACTION")
        try:
            dropped = footprint(conn, resource)
            for table in dropped.tables:
                conn.execute(f"DROP TABLE {table}")
            for log in (LOADS_TABLE, PRUNED_TABLE):
                if table_exists(conn, log):
                    conn.execute(f"DELETE FROM {log} WHERE resource = ?", [resource])
            # A run in flight would recreate it all at its next write: the tombstone stops it.
            record_deletion(conn, resource)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return dropped
