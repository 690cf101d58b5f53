import gc
import threading

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import young_collections_only
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.ingest.test_load import windows


def test_a_load_runs_without_full_collections_and_restores_the_collector(emulator, duckdb_path):
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    load_partitions(
        StripeReader(emulator.api_key, emulator.url), Warehouse(duckdb_path), get_resource("charges"),
        windows("2026-10-03"),
        LoadOptions(
            columns=default_columns(get_resource("charges")),
            settings=ValidationSettings(),
            run_id="r",
            on_partition=lambda outcome, report: during.append((*gc.get_threshold(), gc.get_freeze_count())),
        ),
    )
    # No full collection of its own, and what the process held before set aside for the load.
    assert during and all(t[:2] == before[:2] and t[2] > 1_000_000 and t[3] > 0 for t in during)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


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


def test_a_window_validated_in_parts_is_fully_collected_after_each_part_only(make_emulator, tmp_path, monkeypatch):
    from stripe_assets.ingest import routing

    emu = make_emulator(per_day=1200, days=1)
    full: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    def run(path) -> None:
        load_partitions(
            StripeReader(emu.api_key, emu.url), Warehouse(path), get_resource("charges"), windows("2026-10-01"),
            LoadOptions(columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="r"),
        )

    gc.callbacks.append(count)
    try:
        run(tmp_path / "whole.duckdb")
        whole = len(full)
        monkeypatch.setattr(routing, "BATCH_RECORDS", 250)  # about five parts
        run(tmp_path / "parts.duckdb")
    finally:
        gc.callbacks.remove(count)
    assert whole == 0  # one batch: no full collection during the load
    assert 3 <= len(full) <= 6  # one after each part
