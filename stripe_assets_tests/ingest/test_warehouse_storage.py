"""How the DuckDB file stores what a load writes: a new file compresses `raw` with zstd; a file
created before keeps its storage version and loads as it did."""

from datetime import timedelta

import duckdb

from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.ingest.test_warehouse import COLUMNS, DAY, PRICES, QUARANTINE, price, write

TABLES = ("stripe.prices", "stripe_quarantine.prices", "stripe_history.prices")


def storage_version(path) -> str:
    with Warehouse(path).connect(read_only=True) as conn:
        row = conn.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    assert row is not None
    return str(row[0])


def raw_compression(path, table: str, column: str = "raw") -> set[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        rows = conn.execute(
            f"SELECT DISTINCT compression FROM pragma_storage_info('{table}') "
            f"WHERE column_name = '{column}' AND segment_type <> 'VALIDITY'"
        ).fetchall()
    return {r[0] for r in rows}


def contents(path) -> dict[str, list[tuple]]:
    with Warehouse(path).connect(read_only=True) as conn:
        # (`_replaced_at`: when each file's load displaced the row, a moment apart)
        return {t: conn.execute(f"SELECT * {_EXCLUDED[t]} FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


_EXCLUDED = dict.fromkeys(TABLES, "") | {"stripe_history.prices": "EXCLUDE (_replaced_at)"}


def loads(n: int = 3000):
    """Two runs: a day with a quarantined record, then that day again and the next day."""
    records = [price(i, DAY + timedelta(seconds=i)) for i in range(n)]
    first = [write(DAY, records, quarantine_ids=["price_bad"])]
    second = [
        write(DAY, records[: n // 2], quarantine_ids=["price_bad"], run_id="run2"),
        write(DAY + timedelta(days=1), records[n // 2 :], run_id="run2"),
    ]
    return first, second


def test_a_new_file_compresses_raw_with_zstd_and_reads_back_as_a_file_created_before(tmp_path):
    new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()  # a file as earlier versions created it: DuckDB's default storage
    old_version = storage_version(old)
    for run in loads():
        Warehouse(new).apply(PRICES, COLUMNS, QUARANTINE, run)
        Warehouse(old).apply(PRICES, COLUMNS, QUARANTINE, run)

    assert storage_version(new).startswith("v1.2.0")
    for table in TABLES:
        assert raw_compression(new, table) == {"ZSTD"}
    assert raw_compression(new, "stripe.prices", "metadata") == {"ZSTD"}  # a mapped JSON column
    assert "ZSTD" not in raw_compression(new, "stripe.prices", "currency")  # other text: DuckDB's choice
    # The old file loaded on, neither upgraded (older DuckDBs still open it) nor rewritten.
    assert storage_version(old) == old_version
    assert "ZSTD" not in raw_compression(old, "stripe.prices")
    # Every column of every row reads back the same from both files.
    assert contents(new) == contents(old)
    assert len(contents(new)["stripe.prices"]) == 3000


def test_a_file_loaded_before_loads_on_without_an_upgrade(tmp_path):
    # Its tables were created by a load before: more loads (a new window, a rerun) land as they did.
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    version = storage_version(path)
    first, second = loads()
    Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, first)
    Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, second)
    assert storage_version(path) == version
    assert all("ZSTD" not in raw_compression(path, table) for table in TABLES)
    rows = contents(path)["stripe.prices"]
    assert sorted(r[0] for r in rows) == sorted(f"price_{i}" for i in range(3000))


def test_a_load_larger_than_a_row_group_lands_whole_in_row_groups_of_the_write_size(tmp_path):
    # Full row groups go straight to the file at the insert, the rest at the commit: every row
    # lands, and a later load replaces its window as before.
    from stripe_assets.ingest.warehouse.store import ROW_GROUP_SIZE

    path = tmp_path / "w.duckdb"
    records = [price(i, DAY + timedelta(seconds=i)) for i in range(2 * ROW_GROUP_SIZE + 100)]
    Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, records)])
    with Warehouse(path).connect(read_only=True) as conn:
        largest = conn.execute(
            "SELECT max(count) FROM pragma_storage_info('stripe.prices') WHERE column_name = 'raw'"
        ).fetchone()
    assert largest is not None and largest[0] <= ROW_GROUP_SIZE
    assert sorted(r[0] for r in contents(path)["stripe.prices"]) == sorted(r["id"] for r in records)
    Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, records[:10], run_id="run2")])
    assert len(contents(path)["stripe.prices"]) == 10
