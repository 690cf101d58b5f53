import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError, WindowWrite

PRICES = get_resource("prices")
COLUMNS = default_columns(get_resource("prices"))
QUARANTINE = {"id": "VARCHAR", "_partition": "VARCHAR", "reason": "VARCHAR", "raw": "JSON"}
DAY = datetime(2026, 10, 1, tzinfo=UTC)


def price(n: int, created: datetime) -> dict:
    return {
        "id": f"price_{n}", "object": "price", "created": int(created.timestamp()), "active": True,
        "currency": "usd", "unit_amount": 100 * n, "type": "one_time", "billing_scheme": "per_unit",
        "livemode": False, "metadata": {}, "product": "prod_1",
    }


def write(day: datetime, records: list[dict] | None, quarantine_ids=(), run_id="run") -> WindowWrite:
    key = f"{day:%Y-%m-%d}"
    rows = None
    if records is not None:
        rows = to_arrow(records, COLUMNS, partition_of=lambda _: key, run_id=run_id, loaded_at=datetime.now(UTC))
    quarantine = pa.table(
        {
            "id": list(quarantine_ids),
            "_partition": [key] * len(quarantine_ids),
            "reason": ["bad"] * len(quarantine_ids),
            "raw": ["{}"] * len(quarantine_ids),
        },
        schema=pa.schema(
            [("id", pa.string()), ("_partition", pa.string()), ("reason", pa.string()), ("raw", pa.string())]
        ),
    )
    return WindowWrite(
        key,
        day,
        day + timedelta(days=1),
        rows,
        quarantine,
        {
            "resource": "prices",
            "partition": key,
            "run_id": run_id,
            "status": "loaded" if rows is not None else "rejected",
        },
    )


def ids(path) -> list[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM stripe.prices ORDER BY id").fetchall()]


def quarantined(path) -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as conn:
        return conn.execute("SELECT id, _partition FROM stripe_quarantine.prices ORDER BY id").fetchall()


def test_a_load_replaces_exactly_its_window_and_reruns_change_nothing(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    day2 = DAY + timedelta(days=1)
    wh.apply(
        PRICES,
        COLUMNS,
        QUARANTINE,
        [write(DAY, [price(1, DAY), price(2, DAY + timedelta(hours=5))]), write(day2, [price(3, day2)])],
    )
    assert ids(wh.path) == ["price_1", "price_2", "price_3"]
    # Day 1 reloaded with one object fewer: day 2 untouched, day 1 replaced.
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])])
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])])
    assert ids(wh.path) == ["price_1", "price_3"]


def test_a_rejected_partition_keeps_its_rows_and_quarantine_is_replaced_not_appended(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)], quarantine_ids=["price_8"])])
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, None, quarantine_ids=["price_8", "price_9"])])
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, None, quarantine_ids=["price_8", "price_9"])])
    assert ids(wh.path) == ["price_1"]
    assert quarantined(wh.path) == [("price_8", "2026-10-01"), ("price_9", "2026-10-01")]


def test_a_failing_write_leaves_every_partition_as_it_was(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])])
    good = write(DAY, [price(5, DAY)])
    broken = write(DAY + timedelta(days=1), [price(6, DAY + timedelta(days=1))])
    broken = WindowWrite(
        broken.partition,
        broken.start,
        broken.end,
        broken.rows.append_column("no_such_column", pa.array([1])),
        broken.quarantine,
        broken.load_record,
    )
    with pytest.raises(WarehouseError, match="does not have a column with name \"no_such_column\""):
        wh.apply(PRICES, COLUMNS, QUARANTINE, [good, broken])
    assert ids(wh.path) == ["price_1"]


def test_what_runs_after_a_commit_never_writes_the_windows_again(tmp_path):
    # A conflict is retried by writing the whole transaction again (DuckLake); once the windows
    # committed, an error of the work after them is reported, not retried.
    wh = Warehouse(tmp_path / "w.duckdb")
    transactions = []

    def after(conn) -> None:
        raise duckdb.TransactionException("Transaction conflict: raised after the commit")

    with pytest.raises(WarehouseError, match="conflict"):
        wh.apply(
            PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])],
            before=transactions.append, after=after,
        )
    assert len(transactions) == 1
    assert ids(tmp_path / "w.duckdb") == ["price_1"]


def hold_file(path) -> subprocess.Popen:
    """Another process (a notebook, say) holding the DuckDB file open until its stdin closes."""
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(30)


def test_writers_wait_for_another_process_holding_the_file(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_file(path)
    outcome: list[object] = []

    def write_one() -> None:
        try:
            Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])])
            outcome.append("written")
        except Exception as exc:
            outcome.append(exc)

    writer = threading.Thread(target=write_one)
    writer.start()
    writer.join(1.0)
    # It cannot have written while the file is held, and it must not have given up either.
    assert writer.is_alive() and outcome == []
    release(holder)
    writer.join(60)
    assert outcome == ["written"]
    assert ids(path) == ["price_1"]


def test_a_file_locked_for_too_long_gives_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_file(path)
    try:
        with pytest.raises(WarehouseError, match=r"w\.duckdb stayed locked by another process"):
            Warehouse(path, lock_timeout_seconds=0.5).apply(
                PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)])]
            )
    finally:
        release(holder)


def test_an_unwritable_path_is_refused_before_anything_is_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(WarehouseError, match=r"cannot create the directory of the DuckDB file .*a-file/w\.duckdb"):
        Warehouse(blocker / "w.duckdb").check_writable()
    with pytest.raises(WarehouseError, match="is a directory"):
        Warehouse(tmp_path).check_writable()


def test_rows_a_load_displaces_are_kept_with_the_run_that_replaced_them(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.apply(
        PRICES,
        COLUMNS,
        QUARANTINE,
        [write(DAY, [price(1, DAY), price(2, DAY)], quarantine_ids=["price_7"], run_id="r1")],
    )
    wh.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY, [price(1, DAY)], run_id="r2")])
    with wh.connect(read_only=True) as conn:
        displaced = conn.execute(
            "SELECT id, _run_id, _replaced_by_run, _replaced_partition FROM stripe_history.prices ORDER BY id"
        ).fetchall()
        displaced_quarantine = conn.execute(
            "SELECT id, _replaced_by_run FROM stripe_history.prices_quarantine"
        ).fetchall()
        loads = conn.execute("SELECT run_id, partition, status FROM stripe_meta.loads ORDER BY run_id").fetchall()
    assert displaced == [("price_1", "r1", "r2", "2026-10-01"), ("price_2", "r1", "r2", "2026-10-01")]
    assert displaced_quarantine == [("price_7", "r2")]
    assert loads == [("r1", "2026-10-01", "loaded"), ("r2", "2026-10-01", "loaded")]


def test_a_partition_swapped_in_from_staged_parts_lands_whole_in_small_row_groups(tmp_path, monkeypatch):
    # DuckDB compresses a row group's text at once: a large partition's rows land in smaller
    # groups, so its swap holds less of it in memory.
    from dataclasses import replace

    from stripe_assets.ingest.warehouse import store

    monkeypatch.setattr(store, "STAGED_ROW_GROUP_SIZE", 2048)
    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path)
    records = [price(n, DAY + timedelta(seconds=n)) for n in range(10_000)]
    folder = tmp_path / "staging"
    for part in range(4):
        rows = write(DAY, records[part * 2500 : (part + 1) * 2500]).rows
        Warehouse.stage(folder, part, rows, write(DAY, []).quarantine)
    staged = replace(write(DAY, None), staged=str(folder), load_record={**write(DAY, []).load_record})
    warehouse.apply(PRICES, COLUMNS, QUARANTINE, [staged])
    assert ids(path) == sorted(r["id"] for r in records)
    with warehouse.connect(read_only=True) as conn:
        largest = conn.execute(
            "SELECT max(count) FROM pragma_storage_info('stripe.prices') WHERE column_name = 'raw'"
        ).fetchone()[0]
    assert largest <= 2048
    warehouse.apply(PRICES, COLUMNS, QUARANTINE, [write(DAY + timedelta(days=1), records[:1])])
    assert len(ids(path)) == 10_000  # the id moved to the next day's window; the file reads and writes on


def test_an_id_repeated_across_staged_parts_lands_once_as_first_staged_within_the_swap_memory(
    tmp_path, monkeypatch
):
    # An API listing an object again (a shifted page) puts it in two staged parts: the first copy
    # lands. Only the repeated ids are ranked, so the swap's memory does not follow the rows' size.
    from dataclasses import replace

    from stripe_assets.ingest.warehouse import windows

    monkeypatch.setattr(windows, "STAGING_MEMORY_LIMIT", "64MB")
    path = tmp_path / "w.duckdb"
    pad = {"nickname": "x" * 4000}  # 40 MB of raw JSON in all, above the swap's memory
    records = [{**price(n, DAY + timedelta(seconds=n)), **pad} for n in range(10_000)]
    first, again = records[:5_000], records[5_000:]
    repeated = [{**r, "nickname": "listed again"} for r in first[-3:]]
    folder = tmp_path / "staging"
    Warehouse.stage(folder, 0, write(DAY, first).rows, write(DAY, []).quarantine)
    Warehouse.stage(folder, 1, write(DAY, repeated + again).rows, write(DAY, []).quarantine)
    staged = replace(write(DAY, None), staged=str(folder), load_record={**write(DAY, []).load_record})
    Warehouse(path).apply(PRICES, COLUMNS, QUARANTINE, [staged])

    assert ids(path) == sorted(r["id"] for r in records)
    with Warehouse(path).connect(read_only=True) as conn:
        nicknames = conn.execute(
            "SELECT count(*) FILTER (WHERE raw->>'nickname' = 'listed again'), count(*) FROM stripe.prices"
        ).fetchone()
    assert nicknames == (0, 10_000)
