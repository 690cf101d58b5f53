"""Warehouse faults reach the user as one line naming the real cause, and nothing loaded is lost."""

from __future__ import annotations

import os

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.faults.mounts import fill, read_only_copy, tiny_disk


def load(emulator, path, day: str, run_id: str = "run-1", resource: str = "charges"):
    with StripeReader(emulator.api_key, emulator.url) as reader:
        return load_partitions(
            reader, Warehouse(path), get_resource(resource), [Window(day, *day_window(day))],
            LoadOptions(columns=default_columns(get_resource(resource)), settings=ValidationSettings(), run_id=run_id),
        )


def ids(path, resource: str = "charges") -> list[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM stripe.{resource} ORDER BY id").fetchall()]


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    return text


def test_disk_full_during_a_write_says_so_and_keeps_what_was_loaded(tmp_path, make_emulator):
    emulator = make_emulator(per_day=400)
    with tiny_disk(tmp_path / "disk", "3m") as disk:
        path = disk / "stripe.duckdb"
        load(emulator, path, "2026-10-02")
        before = ids(path)
        fill(disk, 16 * 1024)
        with pytest.raises(WarehouseError) as caught:
            load(emulator, path, "2026-10-03", run_id="run-2")
        message = one_line(caught.value)
        assert "is full" in message and "No space left on device" in message, message
        assert "no transaction is active" not in message and "aborted" not in message
        (disk / "filler").unlink()
        assert ids(path) == before  # the first day intact, nothing of the failed one


@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_damaged_warehouse_file_is_named_as_damaged(tmp_path, emulator, damage):
    path = tmp_path / "stripe.duckdb"
    if damage == "random":
        path.write_bytes(os.urandom(300_000))
    else:
        load(emulator, path, "2026-10-02")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WarehouseError) as caught:
        load(emulator, path, "2026-10-03")
    message = one_line(caught.value)
    assert f"the DuckDB file {path} is damaged or not a DuckDB database" in message, message


def test_schema_clash_names_the_clash_not_an_aborted_transaction(tmp_path, emulator):
    path = tmp_path / "stripe.duckdb"
    load(emulator, path, "2026-10-02")
    with Warehouse(path).connect() as conn:  # a column someone retyped by hand
        conn.execute("ALTER TABLE stripe.charges DROP COLUMN currency")
        conn.execute("ALTER TABLE stripe.charges ADD COLUMN currency BIGINT")
    before = ids(path)
    with pytest.raises(WarehouseError) as caught:
        load(emulator, path, "2026-10-02", run_id="run-2")
    message = one_line(caught.value)
    assert "do not match this load's columns" in message and "currency" in message.lower(), message
    assert "aborted" not in message
    assert ids(path) == before


def test_read_only_commands_work_on_a_read_only_warehouse_directory(project, emulator, tmp_path):
    assert project.load(emulator, "charges", "2026-10-02").success
    rows = len(ids(project.duckdb))
    with read_only_copy([project.duckdb], tmp_path / "readonly") as where:
        path = where / project.duckdb.name
        assert not (where / (path.name + ".lock")).exists()
        env = {"STRIPE_ASSETS_DUCKDB_PATH": str(path)}
        summary = project.cli("summary", **env)
        status = project.cli("status", **env)
        runs = project.cli("runs", "charges", **env)
    for done in (summary, status, runs):
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert "stripe.charges" in summary.stdout and f"{rows}" in summary.stdout
    assert f"{rows}" in runs.stdout


def test_a_load_into_a_read_only_directory_fails_in_one_line_before_fetching(project, emulator, tmp_path):
    assert project.load(emulator, "charges", "2026-10-02").success
    with read_only_copy([project.duckdb], tmp_path / "readonly") as where, pytest.raises(WarehouseError) as caught:
        load(emulator, where / project.duckdb.name, "2026-10-03")
    assert "not writable" in one_line(caught.value) or "read-only" in str(caught.value)


def test_running_out_of_memory_is_named_as_memory_not_a_full_disk(tmp_path):
    import duckdb

    from stripe_assets.ingest.warehouse.errors import describe_warehouse_error

    conn = duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "8MB", "threads": 1})
    with pytest.raises(duckdb.Error) as raised:  # DuckDB's own "could not allocate" for memory
        conn.execute("SELECT list(repeat('x', 100) || i) FROM range(2000000) t(i)").fetchall()
    line = describe_warehouse_error(raised.value, tmp_path / "w.duckdb")
    assert line.startswith("DuckDB ran out of the memory") and "disk" not in line, line


def test_summary_with_the_lakes_catalog_unreachable_prints_one_line(project):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the catalog's Postgres is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lake = f"ducklake:postgres:dbname=stripe_lake host=127.0.0.1 port={port} user=stripe"
    done = project.cli("summary", STRIPE_ASSETS_WAREHOUSE=lake)
    assert done.returncode == 1 and done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert line.startswith(f"stripe-assets summary: cannot open DuckLake {lake.removeprefix('ducklake:')}: "), line
    assert "Connection refused" in line, line
