"""The warehouse: where loads land (`store`), the versions kept for rollback (`history`) and the
log of every load (`loads`)."""

from stripe_assets.ingest.warehouse.connection import CATALOG, DEFAULT_DUCKDB_PATH
from stripe_assets.ingest.warehouse.errors import WarehouseError
from stripe_assets.ingest.warehouse.store import Warehouse
from stripe_assets.ingest.warehouse.tables import (
    HISTORY_COLUMNS,
    HISTORY_SCHEMA,
    LOADS_COLUMNS,
    LOADS_TABLE,
    history_table,
)
from stripe_assets.ingest.warehouse.windows import WindowWrite

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
