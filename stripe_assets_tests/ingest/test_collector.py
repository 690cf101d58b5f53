import contextlib
import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest import load as load_module
from stripe_assets.ingest import routing
from stripe_assets.ingest.children import load as children_module
from stripe_assets.ingest.children.load import load_children
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import collections_paused
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.ingest.test_load import windows


class _Cycle:
    """An object that refers to itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def generations(monkeypatch):
    """The generation of every collection that starts, in any thread, while a load runs."""
    seen: list[int] = []
    loading = threading.Event()

    def count(phase: str, info: dict) -> None:
        if phase == "start" and loading.is_set():
            seen.append(info["generation"])

    @contextlib.contextmanager
    def watched() -> Iterator[None]:
        with collections_paused():
            loading.set()
            try:
                yield
            finally:
                loading.clear()

    monkeypatch.setattr(load_module, "collections_paused", watched)
    monkeypatch.setattr(children_module, "collections_paused", watched)
    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)


def _load(emu, path, *days: str, on_partition=None):
    return load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(path), get_resource("charges"), windows(*days),
        LoadOptions(
            columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="r",
            on_partition=on_partition,
        ),
    )  # fmt: skip


def test_a_child_list_load_runs_no_automatic_collection_and_collects_after_each_window(
    make_emulator, tmp_path, generations, monkeypatch
):
    # A collection once a batch was read since the last: here a batch of one record.
    monkeypatch.setattr("stripe_assets.ingest.children.load.BATCH_RECORDS", 1)
    emu = make_emulator(per_day=300, days=2)
    path = tmp_path / "w.duckdb"
    spec = get_resource("invoice_line_items")
    reader = StripeReader(emu.api_key, emu.url)
    load_partitions(
        reader, Warehouse(path), get_resource("invoices"), windows("2026-10-01", "2026-10-02"),
        LoadOptions(columns=default_columns(get_resource("invoices")), settings=ValidationSettings(), run_id="p"),
    )  # fmt: skip
    generations.clear()
    report = load_children(
        reader, Warehouse(path), spec, windows("2026-10-01", "2026-10-02"),
        LoadOptions(columns=default_columns(spec), settings=ValidationSettings(), run_id="c"),
    )  # fmt: skip
    assert report.records_loaded > 300
    # The lines of both days read and landed without a collection of the young generations;
    # the load's own full collection after each window.
    assert generations == [2, 2], generations
    assert gc.isenabled()


def test_a_load_runs_no_automatic_collection_and_restores_the_collector(make_emulator, tmp_path, generations):
    emu = make_emulator(per_day=1500, days=1)
    before = gc.get_threshold()
    during: list[tuple[bool, int]] = []
    report = _load(
        emu, tmp_path / "w.duckdb", "2026-10-01",
        on_partition=lambda outcome, report: during.append((gc.isenabled(), gc.get_freeze_count())),
    )  # fmt: skip
    collections = list(generations)
    assert report.records_loaded == 1500
    # Thousands of new containers in the fetching, loading and landing threads, and no
    # collection of the young generations: only the load's own, full ones.
    assert all(generation == 2 for generation in collections), collections
    # What the process held before was set aside for the load; all comes back afterwards.
    assert during and all(not enabled and frozen > 0 for enabled, frozen in during)
    assert gc.isenabled() and gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_comes_back_only_when_the_last_of_overlapping_loads_ends():
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with collections_paused():
            first_in.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with collections_paused(), collections_paused():  # a load inside a load
        pass
    paused_after_second = not gc.isenabled()
    release.set()
    thread.join(10)
    assert paused_after_second  # the first load is still running
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_collectors_own_settings_before_a_load_come_back_after_it():
    kept = _Cycle()
    threshold = gc.get_threshold()
    gc.disable()
    gc.set_threshold(5000, 20, 30)
    gc.freeze()  # a process that set its objects aside itself (a pre-forking server does)
    try:
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # disabled before, disabled after
        assert gc.get_threshold() == (5000, 20, 30)
        # Its frozen objects stay frozen (outside every generation the collector walks).
        assert gc.get_freeze_count() > 0 and not any(o is kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        gc.enable()
    del kept


def test_a_window_validated_in_parts_is_fully_collected_after_each_part_only(
    make_emulator, tmp_path, monkeypatch, generations
):
    emu = make_emulator(per_day=1200, days=1)
    _load(emu, tmp_path / "whole.duckdb", "2026-10-01")
    whole = len(generations)
    generations.clear()
    monkeypatch.setattr(routing, "BATCH_RECORDS", 250)  # about five parts
    _load(emu, tmp_path / "parts.duckdb", "2026-10-01")
    assert whole == 0  # one batch: no collection during the load
    assert 3 <= len(generations) <= 6 and set(generations) == {2}  # one after each part


def test_a_cycle_made_during_a_part_is_freed_by_the_end_of_that_part(make_emulator, tmp_path, monkeypatch):
    emu = make_emulator(per_day=1200, days=1)
    validate = load_module.validate_part
    made: list[weakref.ref] = []
    alive_at_next_part: list[bool] = []

    def validate_making_a_cycle(*args, **kwargs):
        if made:
            alive_at_next_part.append(made[-1]() is not None)
        made.append(weakref.ref(_Cycle()))
        return validate(*args, **kwargs)

    monkeypatch.setattr(load_module, "validate_part", validate_making_a_cycle)
    monkeypatch.setattr(routing, "BATCH_RECORDS", 250)
    _load(emu, tmp_path / "w.duckdb", "2026-10-01")
    assert len(alive_at_next_part) >= 3 and not any(alive_at_next_part)


def test_a_load_of_many_small_windows_collects_as_it_goes(make_emulator, tmp_path, monkeypatch, generations):
    emu = make_emulator(per_day=200, days=4)
    monkeypatch.setattr(routing, "BATCH_RECORDS", 300)  # no window holds a part
    monkeypatch.setattr(load_module, "TIDY_RECORDS", 300)  # two hold what is read between collections
    route = routing.OpenWindows.route_page
    made: list[weakref.ref] = []

    def route_making_a_cycle(self, *args, **kwargs):
        made.append(weakref.ref(_Cycle()))
        return route(self, *args, **kwargs)

    monkeypatch.setattr(routing.OpenWindows, "route_page", route_making_a_cycle)
    run = load_module.Loader.run
    alive_at_end: list[int] = []

    def run_and_look(self):
        report = run(self)
        alive_at_end.append(sum(ref() is not None for ref in made))
        return report

    monkeypatch.setattr(load_module.Loader, "run", run_and_look)
    days = ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")
    report = _load(emu, tmp_path / "w.duckdb", *days)
    assert report.records_loaded == 800 and report.staged_windows == 0
    assert generations and set(generations) == {2}
    assert alive_at_end[0] < len(made)  # the cycles of the first pages were freed during the load
