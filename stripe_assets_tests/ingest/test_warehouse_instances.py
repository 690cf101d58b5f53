"""Connections to the DuckDB file reuse the process's DuckDB instances: each still lets other
processes in once it closes, and leaves nothing of itself to the next connection."""

import subprocess
import sys

from stripe_assets.ingest.warehouse import Warehouse


def other_process_writes(path) -> subprocess.CompletedProcess:
    code = (
        "import duckdb, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute('CREATE TABLE IF NOT EXISTS main.other (n INT)'); c.execute('INSERT INTO main.other VALUES (1)')\n"
        "c.close()\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)


def test_a_closed_connection_lets_another_process_write_and_sees_its_rows_next_time(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path)
    for n in range(3):
        with warehouse.connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS main.ours (n INT)")
            conn.execute("INSERT INTO main.ours VALUES (?)", [n])
        done = other_process_writes(path)
        assert done.returncode == 0, done.stderr
    with warehouse.connect(read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM main.other").fetchone() == (3,)
        assert conn.execute("SELECT list(n ORDER BY n) FROM main.ours").fetchone() == ([0, 1, 2],)


def test_settings_temporary_tables_and_open_transactions_stay_with_their_connection(tmp_path):
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as conn:
        default_limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()
        conn.execute("SET memory_limit = '64MB'")
        conn.execute("SET threads = 1")
        conn.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS n")
        conn.execute("CREATE TABLE main.kept (n INT)")
        conn.execute("BEGIN TRANSACTION")
        conn.execute("INSERT INTO main.kept VALUES (1)")  # never committed
    with warehouse.connect() as conn:
        assert conn.execute("SELECT current_setting('memory_limit')").fetchone() == default_limit
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch'").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM main.kept").fetchone() == (0,)
        # a large sort fits: the 64 MB limit of the connection before is gone
        sort = "SELECT count(*) FROM (SELECT repeat('x', 200) || range AS s FROM range(1000000) ORDER BY s)"
        assert conn.execute(sort).fetchone() == (1_000_000,)
