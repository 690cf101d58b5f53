"""The warehouse: where loads land (`store`), the versions kept for rollback (`history`) and the
log of every load (`loads`)."""

from stripe_assets.ingest.warehouse.store import (
    CATALOG,
    DEFAULT_DUCKDB_PATH,
    HISTORY_COLUMNS,
    HISTORY_SCHEMA,
    LOADS_COLUMNS,
    LOADS_TABLE,
    Warehouse,
    WarehouseError,
    WindowWrite,
    history_table,
)

__all__ = [
    "CATALOG",
    "DEFAULT_DUCKDB_PATH",
    "HISTORY_COLUMNS",
    "HISTORY_SCHEMA",
    "LOADS_COLUMNS",
    "LOADS_TABLE",
    "Warehouse",
    "WarehouseError",
    "WindowWrite",
    "history_table",
]
