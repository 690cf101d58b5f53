import gc
import threading

from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import young_collections_only
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.ingest.test_load import windows


def test_a_load_runs_without_full_collections_and_restores_the_collector(emulator, duckdb_path):
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    load_partitions(
        StripeReader(emulator.api_key, emulator.url), Warehouse(duckdb_path), "charges", windows("2026-10-03"),
        columns=default_columns("charges"), settings=ValidationSettings(), run_id="r",
        on_partition=lambda outcome, report: during.append(gc.get_threshold()),
    )
    assert during and all(t[:2] == before[:2] and t[2] > 1_000_000 for t in during)
    assert gc.get_threshold() == before


def test_full_collections_resume_only_when_the_last_of_overlapping_loads_ends():
    before = gc.get_threshold()
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with young_collections_only():
            first_in.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with young_collections_only():
        pass
    paused_after_second = gc.get_threshold()[2] > 1_000_000
    release.set()
    thread.join(10)
    assert paused_after_second  # the first load is still running
    assert gc.get_threshold() == before
