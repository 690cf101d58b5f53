"""The DuckLake warehouse: the same tables and commands as the DuckDB file, shared by many writers."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError, WindowWrite
from stripe_assets.ingest.warehouse.lake import Lake, extension_file
from stripe_assets.settings import Settings, open_warehouse
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.operations.harness import make_project

# The DuckDB file runs the same loads and commands in stripe_assets_tests/operations.
BACKENDS = ["ducklake-file", "ducklake-postgres"]


def test_extensions_load_from_the_wheels_never_from_a_download(postgres, postgres_db, tmp_path):
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(postgres_db)}", str(tmp_path / "data"), tmp_path)
    for warehouse in (Warehouse(lake=lake), Warehouse(tmp_path / "stripe.duckdb")):
        with warehouse.connect() as conn:
            settings = conn.execute(
                "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')"
            ).fetchone()
            assert settings == (False, False)  # a missing extension is an error, never a download
            loaded = conn.execute(
                "SELECT extension_name, installed_from FROM duckdb_extensions() "
                "WHERE loaded AND extension_name IN ('ducklake', 'postgres_scanner') ORDER BY 1"
            ).fetchall()
        if warehouse.lake:
            assert loaded == [
                ("ducklake", str(extension_file("ducklake"))),
                ("postgres_scanner", str(extension_file("postgres"))),
            ]
        else:
            assert loaded == []


def _window(day: str) -> Window:
    return Window(day, *day_window(day))


@pytest.fixture(params=BACKENDS)
def lake_project(request, tmp_path, emulator, monkeypatch):
    """An operations project on each DuckLake backend, its environment set for in-process calls too."""
    made = make_project(tmp_path / "project", emulator)
    if request.param == "ducklake-file":
        made.lake, made.lake_data = f"ducklake:{tmp_path / 'lake' / 'stripe.ducklake'}", tmp_path / "lake" / "data"
    elif request.param == "ducklake-postgres":
        postgres, db = request.getfixturevalue("postgres"), request.getfixturevalue("postgres_db")
        made.lake, made.lake_data = f"ducklake:postgres:{postgres.dsn(db)}", tmp_path / "lake-data"
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    return made


_LOAD_EXTENSIONS = """
import duckdb
from stripe_assets.ingest.warehouse.lake import load_extensions, no_download_config
conn = duckdb.connect(config=no_download_config())
load_extensions(conn, ["ducklake", "postgres", "httpfs"])
print(conn.execute("SELECT count(*) FROM duckdb_extensions() WHERE loaded").fetchone()[0])
"""


def test_runs_starting_together_on_a_fresh_worker_all_load_the_extensions(tmp_path):
    # A new container: no extension copied yet, four runs start at once and all copy them.
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path)}
    starts = [
        subprocess.Popen([sys.executable, "-c", _LOAD_EXTENSIONS], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]  # fmt: skip
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in starts if p.stdout and p.stderr]
    assert [code for code, _, _ in results] == [0, 0, 0, 0], [err[-400:] for _, _, err in results]
    assert (tmp_path / ".duckdb" / "stripe-assets").is_dir()


@pytest.mark.slow
def test_loads_history_rollback_and_commands_work_the_same_on_the_lake(lake_project, emulator, make_emulator):
    project = lake_project
    assert project.load(emulator, "charges", "2026-10-03", "2026-10-04").success
    after_a = project.rows("charges")
    some_invalid = make_emulator(invalid_fraction=0.04)
    b = project.load(some_invalid, "charges", "2026-10-03")
    assert b.success
    after_b = project.rows("charges")
    assert after_b[1] and not after_a[1], "B quarantined records"
    # Reloading replaced the window: one row per id, exactly the emulator's objects.
    ids = [row[0] for row in after_b[0]]
    expected = set(emulator.listable_ids("charges", *day_window("2026-10-03"))) | set(
        emulator.listable_ids("charges", *day_window("2026-10-04"))
    )
    quarantined = {row[0] for row in after_b[1]}
    assert len(ids) == len(set(ids)) and set(ids) | quarantined >= expected

    status = {s["dataflow"]: s for s in project.cli_json("status")["dataflows"]}["stripe_charges"]
    assert status["rows"] == len(ids) and status["quarantined"] == len(quarantined)
    runs = project.cli_json("runs", "stripe_charges")["runs"]
    assert runs[0]["run_id"] == b.run_id
    summary = project.cli("summary")
    assert summary.returncode == 0 and "stripe.charges" in summary.stdout, summary.stderr

    rolled = project.cli("rollback", "charges", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert project.rows("charges") == after_a  # every column of every row, quarantine included
    assert not project.duckdb.exists()  # nothing went to the DuckDB file: the lake holds it all


def _load(lake: Lake, api_key: str, api_base: str, resource: str, days: list[str], run_id: str, start) -> str:
    """One writer in its own process: "landed", or to which run it left its partitions."""
    start.wait()
    warehouse = Warehouse("unused.duckdb", lake=lake)
    report = load_partitions(
        StripeReader(api_key, api_base), warehouse, get_resource(resource), [_window(d) for d in days],
        LoadOptions(columns=default_columns(get_resource(resource)), settings=ValidationSettings(), run_id=run_id),
    )
    return f"left to {sorted(set(report.left_to.values()))}" if report.left_to else "landed"


@pytest.mark.slow
def test_concurrent_writers_share_the_lake_and_never_both_land_on_one_partition(
    postgres, postgres_db, emulator, tmp_path
):
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(postgres_db)}", str(tmp_path / "data"), tmp_path)
    days, other_days = ["2026-10-02", "2026-10-03"], ["2026-10-04", "2026-10-05"]
    writers = {
        "run-a": ("charges", days),
        "run-b": ("charges", days),  # the same partitions as run-a, started at the same moment
        "run-e": ("charges", other_days),  # the same resource, other partitions
        "run-c": ("refunds", days),
        "run-d": ("customers", days),
    }
    context = multiprocessing.get_context("spawn")  # separate processes, as separate machines would be
    # The executor's workers exit when told to, not on SIGTERM (which a parent may have ignored).
    with context.Manager() as manager, ProcessPoolExecutor(len(writers), mp_context=context) as pool:
        start = manager.Barrier(len(writers), timeout=120)
        pending = {
            run: pool.submit(_load, lake, emulator.api_key, emulator.url, resource, ds, run, start)
            for run, (resource, ds) in writers.items()
        }
        outcomes = {run: result.result(timeout=240) for run, result in pending.items()}
    # Other resources and other partitions are never refused: they write side by side.
    assert [outcomes[run] for run in ("run-c", "run-d", "run-e")] == ["landed"] * 3, outcomes
    # Of the two writers of the same partitions, one lands; the other lands only after it, or
    # sets its fetch aside (the other's, as new, landed after it started), naming the run.
    assert "landed" in (outcomes["run-a"], outcomes["run-b"]), outcomes
    for run, other in (("run-a", "run-b"), ("run-b", "run-a")):
        assert outcomes[run] in ("landed", f"left to ['{other}']"), outcomes

    with Warehouse("unused.duckdb", lake=lake).connect(read_only=True) as conn:
        for resource, ds in (("charges", days + other_days), ("refunds", days), ("customers", days)):
            rows = conn.execute(f"SELECT id FROM stripe.{resource}").fetchall()
            expected = {i for d in ds for i in emulator.listable_ids(resource, *day_window(d))}
            assert sorted(r[0] for r in rows) == sorted(expected), resource  # no id twice, none missing
        for day in days:
            in_table = conn.execute(
                "SELECT DISTINCT _run_id FROM stripe.charges WHERE _partition = ?", [day]
            ).fetchall()
            loaders = [r[0] for r in conn.execute(
                "SELECT run_id FROM stripe_meta.loads WHERE resource = 'charges' AND partition = ? "
                "AND status = 'loaded' ORDER BY loaded_at", [day],
            ).fetchall()]
            displaced = conn.execute(
                "SELECT DISTINCT _run_id FROM stripe_history.charges WHERE _replaced_partition = ?", [day]
            ).fetchall()
            # One run's rows whole; a run that landed earlier was displaced into the history.
            assert in_table == [(loaders[-1],)] and len(set(loaders)) == len(loaders), (day, loaders)
            assert {r[0] for r in displaced} == set(loaders[:-1]), (day, loaders)
            assert {run for run in ("run-a", "run-b") if outcomes[run] == "landed"} <= set(loaders)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("second_day", "both_land"), [("2026-10-02", False), ("2026-10-03", True)],
    ids=["same partition", "other partition"],
)
def test_two_writers_committing_at_the_same_moment(postgres, postgres_db, emulator, tmp_path, second_day, both_land):
    """Both transactions are open and past their fence check before either commits: DuckLake
    refuses the later commit, which is run again on the new state. The same partition: the
    fence now sees the landed load, as new, and sets the later fetch aside. Another partition:
    it lands."""
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(postgres_db)}", str(tmp_path / "data"), tmp_path)
    with StripeReader(emulator.api_key, emulator.url) as reader:  # the tables exist, one load is logged
        load_partitions(
            reader, Warehouse(lake=lake), get_resource("charges"), [_window("2026-10-04")],
            LoadOptions(
                columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="run-before"
            ),
        )
    both_inside = threading.Barrier(2, timeout=120)
    attempts: dict[str, int] = {"run-a": 0, "run-b": 0}
    outcomes: dict[str, object] = {}

    def write(run_id: str, day: str) -> None:
        def hold(conn) -> None:  # inside the write transaction, after the fence and the claim
            attempts[run_id] += 1
            if attempts[run_id] == 1:
                both_inside.wait()

        with StripeReader(emulator.api_key, emulator.url) as reader:
            report = load_partitions(
                reader, Warehouse(lake=lake), get_resource("charges"), [_window(day)],
                LoadOptions(
                    columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id=run_id
                ),
                before_first_write=hold,
            )
        outcomes[run_id] = report.left_to or "landed"

    threads = [
        threading.Thread(target=write, args=("run-a", "2026-10-02")),
        threading.Thread(target=write, args=("run-b", second_day)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert set(outcomes) == {"run-a", "run-b"}
    # Both were inside their transactions, past the fence, when the first committed: the later
    # commit conflicted and its transaction ran again (setting its fetch aside on the same
    # partition, writing on another one).
    assert sorted(attempts.values()) == [1, 2], attempts
    with Warehouse(lake=lake).connect(read_only=True) as conn:
        rows = conn.execute("SELECT _partition, _run_id, id FROM stripe.charges").fetchall()
        loads = conn.execute(
            "SELECT run_id FROM stripe_meta.loads WHERE partition = '2026-10-02' AND status = 'loaded'"
        ).fetchall()
    ids = [r[2] for r in rows]
    assert len(ids) == len(set(ids))
    if both_land:
        assert outcomes == {"run-a": "landed", "run-b": "landed"}
        assert {(r[0], r[1]) for r in rows} == {
            ("2026-10-02", "run-a"), ("2026-10-03", "run-b"), ("2026-10-04", "run-before")
        }
    else:
        winner = next(run for run, outcome in outcomes.items() if outcome == "landed")
        loser = next(run for run in outcomes if run != winner)
        assert outcomes[loser] == {"2026-10-02": winner}, outcomes
        assert {(r[0], r[1]) for r in rows} == {("2026-10-02", winner), ("2026-10-04", "run-before")}
        assert loads == [(winner,)]
        expected = set(emulator.listable_ids("charges", *day_window("2026-10-02")))
        assert {r[2] for r in rows if r[0] == "2026-10-02"} == expected


def test_a_bad_warehouse_value_is_one_line_naming_the_variable(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path), "STRIPE_ASSETS_WAREHOUSE": "postgres://stripe@db/stripe"}
    expected = r"^STRIPE_ASSETS_WAREHOUSE='postgres://stripe@db/stripe': expected ducklake:<catalog>"
    with pytest.raises(WarehouseError, match=expected):
        open_warehouse(Settings.from_env(env))
    env["STRIPE_ASSETS_WAREHOUSE"] = "ducklake:sqlite:lake.sqlite"
    with pytest.raises(WarehouseError, match="catalog 'sqlite' is not supported"):
        open_warehouse(Settings.from_env(env))


@pytest.mark.parametrize("written", ["s3cret", r"'it\'s a s3cret'"], ids=["plain", "libpq-quoted"])
def test_passwords_in_the_catalog_never_reach_a_message(tmp_path, written):
    lake = Lake.parse(f"ducklake:postgres:dbname=x host=127.0.0.1 port=1 password={written} user=u", None, tmp_path)
    with pytest.raises(WarehouseError) as caught, Warehouse(lake=lake).connect():
        pass
    for shown in (str(caught.value), lake.describe()):
        assert "s3cret" not in shown and "password=*** user=u" in shown


def test_unset_the_warehouse_is_the_duckdb_file(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path), "STRIPE_ASSETS_DUCKDB_PATH": "w/stripe.duckdb"}
    warehouse = open_warehouse(Settings.from_env(env))
    assert warehouse.lake is None and warehouse.path == tmp_path / "w" / "stripe.duckdb"
    env |= {"STRIPE_ASSETS_WAREHOUSE": "ducklake:lake/stripe.ducklake", "STRIPE_ASSETS_LAKE_DATA_PATH": "lake/files"}
    lake = open_warehouse(Settings.from_env(env)).lake
    assert lake == Lake(str(tmp_path / "lake" / "stripe.ducklake"), str(tmp_path / "lake" / "files") + "/")
    env["STRIPE_ASSETS_LAKE_DATA_PATH"] = "s3://bucket/stripe"
    assert open_warehouse(Settings.from_env(env)).lake.data_path == "s3://bucket/stripe/"


def test_a_write_that_fails_halfway_changes_nothing_on_the_lake(postgres, postgres_db, emulator, tmp_path):
    """Two windows in one transaction; the second's rows cannot be stored: the first is undone too."""
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(postgres_db)}", str(tmp_path / "data"), tmp_path)
    warehouse = Warehouse(lake=lake)
    reader = StripeReader(emulator.api_key, emulator.url)
    columns = default_columns(get_resource("charges"))
    windows = [_window("2026-10-02"), _window("2026-10-03")]
    load_partitions(
        reader, warehouse, get_resource("charges"), windows,
        LoadOptions(columns=columns, settings=ValidationSettings(), run_id="first"),
    )
    with warehouse.connect(read_only=True) as conn:
        before = conn.execute("SELECT * FROM stripe.charges ORDER BY id").fetchall()
        loads = conn.execute("SELECT count(*) FROM stripe_meta.loads").fetchone()
        rows = conn.execute("SELECT * FROM stripe.charges ORDER BY created").to_arrow_table()
    created = rows["created"]
    in_window = [rows.filter(pc.and_(pc.greater_equal(created, w.start), pc.less(created, w.end))) for w in windows]
    # The second window's amounts arrive as text that is no number: its INSERT fails.
    broken = in_window[1].set_column(
        in_window[1].schema.get_field_index("amount"), "amount", pa.array(["lots"] * in_window[1].num_rows)
    )
    empty_quarantine = pa.table({"_partition": pa.array([], pa.string())})

    def write(window: Window, table: pa.Table) -> WindowWrite:
        record = {"resource": "charges", "partition": window.key, "run_id": "second", "status": "loaded"}
        return WindowWrite(window.key, window.start, window.end, table, empty_quarantine, record)

    with pytest.raises(WarehouseError, match="Could not convert string 'lots' to INT64"):
        warehouse.apply(
            get_resource("charges"), columns, QUARANTINE_COLUMNS,
            [write(windows[0], in_window[0]), write(windows[1], broken)],
        )
    with warehouse.connect(read_only=True) as conn:
        assert conn.execute("SELECT * FROM stripe.charges ORDER BY id").fetchall() == before
        assert conn.execute("SELECT count(*) FROM stripe_meta.loads").fetchone() == loads
        assert conn.execute("SELECT count(*) FROM stripe_history.charges").fetchone() == (0,)
