"""A write never overwrites a newer load of its partition, and a deletion is never undone by a
run that was in flight: the stale run's older fetch is set aside (the run says to which run),
the newer state stays; a deletion refuses the stale run's write in one line."""

from __future__ import annotations

import threading

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.fence import SupersededError
from stripe_assets.ingest.warehouse.loads import partition_loads, table_exists
from stripe_assets.operations.delete import drop_resource_data
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_tests.conftest import day_window

DAYS = ("2026-10-02", "2026-10-03")


class PausingReader(StripeReader):
    """A real reader (real HTTP) that holds its first page until the test lets it go on:
    the run has started and fetched nothing when `started` is set."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started, self.proceed = threading.Event(), threading.Event()

    def get_page(self, path, params, stats, backlog=None, lean=None, texts=False):
        if not self.started.is_set():
            self.started.set()
            assert self.proceed.wait(30)
        return super().get_page(path, params, stats, backlog, lean, texts)


def load(reader, path, run_id: str, days=DAYS):
    return load_partitions(
        reader, Warehouse(path), get_resource("charges"), [Window(d, *day_window(d)) for d in days],
        LoadOptions(columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id=run_id),
    )


def in_background(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["report"] = target()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def run_ids_and_ids(path) -> tuple[set[str], list[str]]:
    with Warehouse(path).connect(read_only=True) as conn:
        rows = conn.execute("SELECT _run_id, id FROM stripe.charges ORDER BY id").fetchall()
    return {r[0] for r in rows}, [r[1] for r in rows]


def test_a_stale_run_cannot_overwrite_the_newer_load_that_replaced_it(tmp_path, emulator):
    path = tmp_path / "stripe.duckdb"
    with StripeReader(emulator.api_key, emulator.url) as reader:
        load(reader, path, "run-first")
    stale_reader = PausingReader(emulator.api_key, emulator.url)
    stale, outcome = in_background(lambda: load(stale_reader, path, "run-stale"))
    assert stale_reader.started.wait(30)
    with StripeReader(emulator.api_key, emulator.url) as reader:  # the rerun, while the stale run hangs
        load(reader, path, "run-rerun")
    after_rerun = run_ids_and_ids(path)
    stale_reader.proceed.set()
    stale.join(60)
    stale_reader.close()

    assert "error" not in outcome, outcome
    assert outcome["report"].left_to == dict.fromkeys(DAYS, "run-rerun")
    assert {o.left_to for o in outcome["report"].outcomes} == {"run-rerun"}
    assert run_ids_and_ids(path) == after_rerun and after_rerun[0] == {"run-rerun"}
    with Warehouse(path).connect(read_only=True) as conn:
        assert {load.run_id for load in partition_loads(conn, "charges")} == {"run-first", "run-rerun"}

    # `rollback --steps 1` undoes the rerun (the newest load), back to the first run's rows
    run_rollback(Warehouse(path), RollbackRequest("charges", steps=1))
    assert run_ids_and_ids(path)[0] == {"run-first"}


def test_a_machine_whose_clock_runs_ahead_does_not_blind_the_fence(tmp_path, emulator):
    """Loads are ordered by when they committed, not by each writer's clock: after a load
    stamped an hour ahead (another machine's clock), a newer load is still seen as newer."""
    path = tmp_path / "stripe.duckdb"
    with StripeReader(emulator.api_key, emulator.url) as reader:
        load(reader, path, "run-first")
        load(reader, path, "run-ahead", days=("2026-10-04",))
    with Warehouse(path).connect() as conn:  # that load's machine clock: an hour ahead
        conn.execute(
            "UPDATE stripe_meta.loads SET loaded_at = loaded_at + INTERVAL 1 HOUR WHERE run_id = 'run-ahead'"
        )
    stale_reader = PausingReader(emulator.api_key, emulator.url)
    stale, outcome = in_background(lambda: load(stale_reader, path, "run-stale"))
    assert stale_reader.started.wait(30)
    with StripeReader(emulator.api_key, emulator.url) as reader:
        load(reader, path, "run-rerun")
    stale_reader.proceed.set()
    stale.join(60)
    stale_reader.close()

    assert outcome["report"].left_to == dict.fromkeys(DAYS, "run-rerun"), outcome
    assert _writers_of(path, DAYS) == {"run-rerun"}
    with Warehouse(path).connect(read_only=True) as conn:
        order = conn.execute(
            "SELECT run_id FROM stripe_meta.loads WHERE partition = ? ORDER BY loaded_at", [DAYS[0]]
        ).fetchall()
    assert [r[0] for r in order] == ["run-first", "run-rerun"]
    # Rollback undoes the newest load by that order: the rerun, not the load stamped ahead.
    run_rollback(Warehouse(path), RollbackRequest("charges", steps=1))
    assert _writers_of(path, DAYS) == {"run-first"} and _writers_of(path, ("2026-10-04",)) == {"run-ahead"}


def _writers_of(path, days) -> set[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        marks = ", ".join("?" * len(days))
        rows = conn.execute(f"SELECT DISTINCT _run_id FROM stripe.charges WHERE _partition IN ({marks})", list(days))
        return {r[0] for r in rows.fetchall()}


def test_a_run_may_write_its_own_partitions_again(tmp_path, emulator):
    path = tmp_path / "stripe.duckdb"
    with StripeReader(emulator.api_key, emulator.url) as reader:
        load(reader, path, "run-a")
        load(reader, path, "run-a")  # a retried step of the same run
        load(reader, path, "run-b")
    assert run_ids_and_ids(path)[0] == {"run-b"}


@pytest.mark.parametrize("existing", [True, False], ids=["loaded before", "first load"])
def test_delete_drop_data_wins_over_the_run_in_flight(tmp_path, emulator, existing):
    path = tmp_path / "stripe.duckdb"
    if existing:
        with StripeReader(emulator.api_key, emulator.url) as reader:
            load(reader, path, "run-before")
    else:  # a warehouse holding another resource only
        with StripeReader(emulator.api_key, emulator.url) as reader:
            load_partitions(
                reader, Warehouse(path), get_resource("prices"), [Window(DAYS[0], *day_window(DAYS[0]))],
                LoadOptions(
                    columns=default_columns(get_resource("prices")), settings=ValidationSettings(), run_id="run-prices"
                ),
            )
    in_flight_reader = PausingReader(emulator.api_key, emulator.url)
    in_flight, outcome = in_background(lambda: load(in_flight_reader, path, "run-in-flight"))
    assert in_flight_reader.started.wait(30)
    drop_resource_data(Warehouse(path), "charges")
    in_flight_reader.proceed.set()
    in_flight.join(60)
    in_flight_reader.close()

    error = outcome.get("error")
    assert isinstance(error, SupersededError), outcome
    assert "charges: its data was deleted (stripe-assets delete --drop-data) at" in str(error)
    assert "after run run-in-flight started: nothing of this run was written" in str(error)
    with Warehouse(path).connect(read_only=True) as conn:
        for table in ("stripe.charges", "stripe_quarantine.charges", "stripe_history.charges"):
            assert not table_exists(conn, table), f"{table} came back"
        assert partition_loads(conn, "charges") == []
        assert table_exists(conn, "stripe.prices") == (not existing)

    # A run started after the deletion loads as usual.
    with StripeReader(emulator.api_key, emulator.url) as reader:
        load(reader, path, "run-after")
    assert run_ids_and_ids(path)[0] == {"run-after"}
