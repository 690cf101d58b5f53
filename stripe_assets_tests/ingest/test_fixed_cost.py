"""What every load pays before and after its objects: the catalog read once per step of a
write, column descriptions read only where they are shown."""

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest import stripe_docs
from stripe_assets.ingest.columns import AddedColumn, apply_mapping, default_columns
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import check_fence, take_fence
from stripe_assets.ingest.warehouse.tables import ensure_tables, table_columns

CHARGES = get_resource("charges")
DAY = datetime(2026, 10, 1, tzinfo=UTC)


class Recorded:
    """A DuckDB connection that notes the statements it runs."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn, self.statements = conn, list[str]()

    def execute(self, sql, *args):
        self.statements.append(sql)
        return self.conn.execute(sql, *args)

    def register(self, *args):
        return self.conn.register(*args)

    def unregister(self, *args):
        return self.conn.unregister(*args)

    def catalog_reads(self) -> int:
        return sum("information_schema" in s or "duckdb_columns" in s or "duckdb_tables" in s for s in self.statements)


def empty_write() -> WindowWrite:
    quarantine = pa.table({"id": pa.array([], pa.string())})
    record = {"resource": "charges", "partition": "2026-10-01", "run_id": "r", "status": "loaded"}
    return WindowWrite("2026-10-01", DAY, DAY + timedelta(days=1), None, quarantine, record)


def test_a_resources_tables_are_checked_with_one_look_at_the_catalog(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    columns = default_columns(CHARGES)
    first = Recorded(conn)
    ensure_tables(first, CHARGES, columns, QUARANTINE_COLUMNS)
    assert first.catalog_reads() == 1
    created = {t for (t,) in conn.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
    assert {"stripe.charges", "stripe_quarantine.charges", "stripe_history.charges",
            "stripe_history.charges_quarantine", "stripe_meta.loads", "stripe_meta.fence_charges"} <= created

    # A mapping that adds a column: it is added where the rows go (the table and its history),
    # and nothing else is created again.
    added = apply_mapping(CHARGES, add={"card_brand_2": AddedColumn("payment_method_details.card.brand")})
    again = Recorded(conn)
    ensure_tables(again, CHARGES, added, QUARANTINE_COLUMNS)
    assert again.catalog_reads() == 1
    assert not [s for s in again.statements if s.startswith("CREATE")]
    assert "card_brand_2" in table_columns(conn, "stripe.charges")
    assert "card_brand_2" in table_columns(conn, "stripe_history.charges")
    assert conn.execute("SELECT count(*) FROM stripe_meta.fence_charges").fetchone() == (1,)


def test_the_fence_reads_the_catalog_once_per_check(tmp_path):
    path = tmp_path / "w.duckdb"
    wh = Warehouse(path)
    wh.apply(CHARGES, default_columns(CHARGES), QUARANTINE_COLUMNS, [empty_write()])
    conn = duckdb.connect(str(path))
    taking = Recorded(conn)
    fence = take_fence(taking, "charges", "r2")
    assert taking.catalog_reads() == 1 and fence.newest_load is not None
    checking = Recorded(conn)
    assert check_fence(checking, fence, [empty_write()]) == {}
    assert checking.catalog_reads() == 1


@pytest.mark.parametrize("resource", ["charges", "invoice_line_items"])
def test_column_descriptions_are_read_from_the_sdk_only_when_shown(resource):
    stripe_docs._module_docs.cache_clear()
    columns = default_columns(get_resource(resource))
    assert stripe_docs._module_docs.cache_info().currsize == 0  # a load builds its columns: no SDK source read
    described = {c.name: c.description for c in columns}
    assert stripe_docs._module_docs.cache_info().currsize > 0
    if resource == "charges":
        assert described["amount"].startswith("Amount intended to be collected by this payment. ")
        assert described["created"] == "Time at which the object was created. (Stripe `created`, as a UTC time)"
    else:  # a child's parent columns are described in the project's words
        assert described["invoice"] == "The invoice this was listed under (`stripe.invoices`)"
