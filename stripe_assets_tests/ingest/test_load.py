"""One load end to end over real HTTP: emulator → client → validation → DuckDB."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.ingest.loopback import oldest_first


def windows(*days: str) -> list[Window]:
    return [Window(d, *day_window(d)) for d in days]


def load(emu, path, resource, *days, settings=ValidationSettings(), run_id="run-1"):
    return load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(path), get_resource(resource), windows(*days),
        LoadOptions(columns=default_columns(get_resource(resource)), settings=settings, run_id=run_id),
    )


def table(path, resource, columns="id, _partition") -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as conn:
        return conn.execute(f"SELECT {columns} FROM stripe.{resource} ORDER BY id").fetchall()


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_partition_holds_exactly_the_objects_created_in_its_window(emulator, duckdb_path, resource):
    report = load(emulator, duckdb_path, resource, "2026-10-03")
    expected = emulator.listable_ids(resource, *day_window("2026-10-03"))
    assert expected, "the emulator serves objects on that day"
    assert sorted(r[0] for r in table(duckdb_path, resource)) == sorted(expected)
    assert report.records_loaded == len(expected) and not report.failures


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_rerun_changes_nothing_and_a_range_equals_the_sum_of_its_partitions(emulator, tmp_path, resource):
    ranged, single = tmp_path / "ranged.duckdb", tmp_path / "single.duckdb"
    load(emulator, ranged, resource, "2026-10-02", "2026-10-03", "2026-10-04")
    first = table(ranged, resource, "id, _partition, raw")
    load(emulator, ranged, resource, "2026-10-02", "2026-10-03", "2026-10-04", run_id="run-2")
    assert table(ranged, resource, "id, _partition, raw") == first
    for day in ("2026-10-02", "2026-10-03", "2026-10-04"):
        load(emulator, single, resource, day)
    assert table(single, resource, "id, _partition, raw") == first
    assert len({row[0] for row in first}) == len(first)  # one row per id


def test_objects_created_exactly_at_midnight_land_in_the_later_partition(emulator, duckdb_path):
    midnight = datetime(2026, 10, 4, tzinfo=UTC)
    at_boundary = [o["id"] for o in emulator.objects("charges", midnight, midnight + timedelta(seconds=1))]
    assert at_boundary, "the emulator creates objects exactly at midnight"
    load(emulator, duckdb_path, "charges", "2026-10-03", "2026-10-04")
    partitions = dict(table(duckdb_path, "charges"))
    assert {partitions[i] for i in at_boundary} == {"2026-10-04"}


def test_typed_columns_match_the_raw_objects(emulator, duckdb_path):
    load(emulator, duckdb_path, "charges", "2026-10-03")
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        rows = conn.execute(
            "SELECT id, amount, currency, customer, epoch(created)::BIGINT, "
            "raw->>'$.customer', (raw->>'$.amount')::BIGINT "
            "FROM stripe.charges"
        ).fetchall()
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'charges' AND table_schema = 'stripe'"
            ).fetchall()
        )
    truth = {o["id"]: o for o in emulator.objects("charges", *day_window("2026-10-03"))}
    for id_, amount, currency, customer, created, raw_customer, raw_amount in rows:
        assert (amount, currency, created) == (truth[id_]["amount"], truth[id_]["currency"], truth[id_]["created"])
        assert customer == raw_customer and amount == raw_amount
    assert (types["amount"], types["created"], types["paid"], types["raw"]) == (
        "BIGINT",
        "TIMESTAMP WITH TIME ZONE",
        "BOOLEAN",
        "JSON",
    )


def test_the_load_is_recorded_per_partition(emulator, duckdb_path):
    load(emulator, duckdb_path, "prices", "2026-10-02", "2026-10-03", run_id="abc")
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        loads = conn.execute(
            "SELECT partition, status, records_loaded, run_id FROM stripe_meta.loads ORDER BY partition"
        ).fetchall()
    counts = {d: len(emulator.listable_ids("prices", *day_window(d))) for d in ("2026-10-02", "2026-10-03")}
    assert loads == [(d, "loaded", n, "abc") for d, n in counts.items()]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_an_api_listing_out_of_order_still_lands_every_window_whole(make_emulator, duckdb_path, concurrency):
    emulator = make_emulator(per_day=80)  # several pages per slice, each oldest first
    days = ("2026-10-02", "2026-10-03", "2026-10-04")
    start, end = day_window(days[0])[0], day_window(days[-1])[1]
    api = oldest_first(emulator.objects("charges", start, end))  # proves no window lands half-complete
    landed = []
    try:
        report = load_partitions(
            StripeReader("sk_test_any", api.url), Warehouse(duckdb_path), get_resource("charges"), windows(*days),
            LoadOptions(
                columns=default_columns(get_resource("charges")),
                settings=ValidationSettings(),
                run_id="run-1",
                on_partition=lambda outcome, _: landed.append(outcome.window.key),
                concurrency=concurrency,
            ),
        )
    finally:
        api.stop()
    assert report.stats.pages >= 3
    assert sorted(landed) == list(days)  # each window landed once, never half-complete first
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM stripe_meta.loads").fetchone()[0] == len(days)
    assert sorted(table(duckdb_path, "charges")) == sorted(
        (i, d) for d in days for i in emulator.listable_ids("charges", *day_window(d))
    )


@pytest.mark.parametrize("concurrency", [1, 4])
def test_objects_listed_again_on_later_pages_or_twice_on_one_page_land_once_as_first_listed(
    make_emulator, tmp_path, concurrency
):
    from stripe_assets_tests.ingest.loopback import list_api

    emulator = make_emulator(per_day=250)
    days = ("2026-10-02", "2026-10-03")
    start, end = day_window(days[0])[0], day_window(days[-1])[1]
    objects = sorted(emulator.objects("charges", start, end), key=lambda o: (o["created"], o["id"]), reverse=True)

    def page(query: dict[str, str]) -> dict:  # newest first, each page repeating an object already listed
        low, high = int(query["created[gte]"]), int(query["created[lt]"])
        items = [o for o in objects if low <= o["created"] < high]
        first = [o["id"] for o in items].index(query["starting_after"]) + 1 if "starting_after" in query else 0
        limit = int(query.get("limit", 10))
        data = items[first : first + limit]
        again = {"description": "listed again"}
        if first >= 2:  # a shifted page boundary: an object of the page before
            data = [{**items[first - 2], **again}, *data]
        elif len(data) > 3:  # the same object twice on one page
            data = [*data[:2], {**data[0], **again}, *data[2:]]
        return {"object": "list", "url": "/v1/charges", "has_more": first + limit < len(items), "data": data}

    def load_from(api, path):
        try:
            return load_partitions(
                StripeReader("sk_test_any", api.url), Warehouse(path), get_resource("charges"), windows(*days),
                LoadOptions(
                    columns=default_columns(get_resource("charges")),
                    settings=ValidationSettings(),
                    run_id="run-1",
                    concurrency=concurrency,
                ),
            )
        finally:
            api.stop()

    report = load_from(list_api(page), tmp_path / "repeating.duckdb")
    load_from(oldest_first(objects), tmp_path / "clean.duckdb")
    assert report.records_loaded == len(objects) and report.records_rejected == 0  # no copy got in
    assert _ids_and_raw(tmp_path / "repeating.duckdb") == _ids_and_raw(tmp_path / "clean.duckdb")
    assert "listed again" not in str(_ids_and_raw(tmp_path / "repeating.duckdb"))
    assert report.stats.pages > 2 * len(days)  # pages after the first: objects listed again


def test_versions_beyond_the_retention_are_pruned_after_each_load(emulator, duckdb_path):
    from stripe_assets.ingest.warehouse.history import HistoryRetention

    for run in ("r1", "r2", "r3"):
        load_partitions(
            StripeReader(emulator.api_key, emulator.url), Warehouse(duckdb_path), get_resource("prices"),
            windows("2026-10-03"),
            LoadOptions(
                columns=default_columns(get_resource("prices")),
                settings=ValidationSettings(),
                run_id=run,
                retention=HistoryRetention(keep_versions=1),
            ),
        )
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        kept = conn.execute("SELECT DISTINCT _replaced_by_run FROM stripe_history.prices").fetchall()
    assert kept == [("r3",)]  # only the newest load can still be rolled back


def test_a_load_ends_with_one_turn_at_the_warehouse_that_lands_prunes_and_counts(emulator, duckdb_path):
    # A run's assets take turns at one DuckDB file: the last write also prunes old versions and
    # counts the table (the row count the UI shows), instead of queueing twice more for the lock.
    from stripe_assets.ingest.warehouse.history import HistoryRetention

    class Turns(Warehouse):
        def connect(self, **options):
            turns.append("read" if options.get("read_only") else "write")
            return super().connect(**options)

    days = windows("2026-10-02", "2026-10-03")
    reports = []
    for run in ("r1", "r2"):
        turns: list[str] = []
        reports.append(
            load_partitions(
                StripeReader(emulator.api_key, emulator.url), Turns(duckdb_path), get_resource("prices"), days,
                LoadOptions(
                    columns=default_columns(get_resource("prices")),
                    settings=ValidationSettings(),
                    run_id=run,
                    retention=HistoryRetention(keep_versions=1),
                ),
            )
        )
        assert turns.count("write") == 1, turns
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        kept = conn.execute("SELECT DISTINCT _replaced_by_run FROM stripe_history.prices").fetchall()
        rows = conn.execute("SELECT count(*) FROM stripe.prices").fetchone()
    assert kept == [("r2",)]  # pruned in that turn: only the newest load can still be rolled back
    assert reports[-1].table_rows == rows[0] == len(emulator.listable_ids("prices", days[0].start, days[-1].end))


def _ids_and_raw(path, resource="charges"):
    """Each row's id, partition and `raw` as parsed JSON: `raw` is the text the page sent (a
    server may escape or space it otherwise than another), the same object either way."""
    return [(i, p, json.loads(raw)) for i, p, raw in table(path, resource, "id, _partition, raw")]


def test_split_slices_land_exactly_the_ids_of_a_single_cursor(make_emulator, tmp_path):
    emu = make_emulator(per_day=2500, days=2)  # 25 pages a day: dense enough to split
    days = ("2026-10-01", "2026-10-02")
    single, split = tmp_path / "single.duckdb", tmp_path / "split.duckdb"
    one = load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(single), get_resource("charges"), windows(*days),
        LoadOptions(
            columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="r", concurrency=1
        ),
    )
    many = load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(split), get_resource("charges"), windows(*days),
        LoadOptions(
            columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="r", concurrency=8
        ),
    )
    assert one.slices == 1 and many.slices > len(days)  # one cursor against many
    assert _ids_and_raw(split) == _ids_and_raw(single)
    expected = sorted((i, d) for d in days for i in emu.listable_ids("charges", *day_window(d)))
    assert sorted(table(split, "charges")) == expected
    assert many.stats.pages <= one.stats.pages + many.slices  # at most one partial page per slice


# Where the validated parts of a window too large for one batch wait: in memory, in Parquet
# files, or in memory until they outgrow it (about 0.5 MB a part of 250 charges).
HELD = {"memory": None, "files": 0, "memory, then files": 1_200_000}


@pytest.mark.parametrize("held", list(HELD))
def test_a_window_larger_than_memory_is_staged_and_lands_exactly_like_a_small_one(
    make_emulator, tmp_path, monkeypatch, held
):
    from stripe_assets.ingest import parts, routing

    emu = make_emulator(per_day=1200, days=1, invalid_fraction=0.02, invalid_kinds="null_required")
    whole, staged = tmp_path / "whole.duckdb", tmp_path / "staged.duckdb"
    load(emu, whole, "charges", "2026-10-01")
    monkeypatch.setattr(routing, "BATCH_RECORDS", 250)  # the day arrives in ~5 parts
    if HELD[held] is not None:
        monkeypatch.setattr(parts, "HELD_PART_BYTES", HELD[held])
    report = load(emu, staged, "charges", "2026-10-01")
    assert report.staged_windows == 1
    assert report.spilled_windows == (0 if held == "memory" else 1)
    every_column = "* EXCLUDE (_loaded_at, _observed_at)"  # typed columns, raw, partition, run
    assert table(staged, "charges", every_column) == table(whole, "charges", every_column)
    assert _ids_and_raw(staged) == _ids_and_raw(whole)
    [outcome] = report.outcomes
    invalid = len(emu.invalid_records("charges"))
    assert invalid and outcome.records_rejected == invalid and outcome.records_total == 1200
    with Warehouse(staged).connect(read_only=True) as conn:
        quarantined = conn.execute("SELECT count(DISTINCT id) FROM stripe_quarantine.charges").fetchone()[0]
    assert quarantined == invalid
    assert _quarantine(staged) == _quarantine(whole)
    assert not list(tmp_path.glob("staged.duckdb.staging/charges/*"))  # the staged parts are gone


def _quarantine(path) -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as conn:
        return conn.execute(
            "SELECT * EXCLUDE (_quarantined_at) FROM stripe_quarantine.charges ORDER BY ALL"
        ).fetchall()


@pytest.mark.parametrize("held", ["memory", "files"])
def test_a_staged_window_over_its_threshold_keeps_the_rows_it_had(make_emulator, tmp_path, monkeypatch, held):
    from stripe_assets.ingest import parts, routing

    good = make_emulator(per_day=600, days=1)
    bad = make_emulator(per_day=600, days=1, invalid_fraction=0.3, invalid_kinds="wrong_type")
    path = tmp_path / "w.duckdb"
    load(good, path, "charges", "2026-10-01")
    before = _ids_and_raw(path)
    monkeypatch.setattr(routing, "BATCH_RECORDS", 100)
    if HELD[held] is not None:
        monkeypatch.setattr(parts, "HELD_PART_BYTES", HELD[held])
    report = load(bad, path, "charges", "2026-10-01", run_id="run-2")
    assert report.staged_windows == 1 and len(report.failures) == 1
    assert "above the 5.0% threshold" in report.failure_message
    assert _ids_and_raw(path) == before  # all or nothing: the partition kept its rows


def test_an_object_listed_again_in_a_later_part_lands_once_as_first_listed():
    import pyarrow as pa

    from stripe_assets.ingest.prepare import first_of_each_id

    parts = pa.table({"id": ["ch_1", "ch_2", "ch_3", "ch_2", "ch_4", "ch_1"], "raw": list("abcdef")})
    assert first_of_each_id(parts).to_pylist() == [
        {"id": "ch_1", "raw": "a"}, {"id": "ch_2", "raw": "b"}, {"id": "ch_3", "raw": "c"}, {"id": "ch_4", "raw": "e"},
    ]
    assert first_of_each_id(parts.slice(0, 3)) == parts.slice(0, 3)


def test_a_long_load_logs_its_progress(make_emulator, duckdb_path):
    emu = make_emulator(per_day=400, days=3)
    lines: list[str] = []
    load_partitions(
        StripeReader(emu.api_key, emu.url),
        Warehouse(duckdb_path),
        get_resource("charges"),
        windows("2026-10-01", "2026-10-02", "2026-10-03"),
        LoadOptions(
            columns=default_columns(get_resource("charges")),
            settings=ValidationSettings(),
            run_id="r",
            log=lines.append,
            progress_seconds=0,
        ),
    )
    assert len(lines) >= 2
    assert all(line.startswith("charges: ") and "windows done" in line and "objects" in line for line in lines)
    assert "ETA" in lines[0] and "requests/s" in lines[0] and "rate limited (429)" in lines[0]
    assert lines[-1].startswith("charges: 3/3 windows done, 1,200 objects in ")


def test_a_load_tells_the_keys_budget_how_many_requests_it_still_expects(make_emulator, duckdb_path):
    # The budget favours the endpoint with clearly the most left (see `limiter`): a load's
    # estimate must follow what it really has left.
    from stripe_assets.ingest.limiter import Backlog, Limits, MemoryBudgetStore, RateLimiter

    class Probe(RateLimiter):
        def acquire(self, endpoint: str, backlog: Backlog | None = None) -> float:
            reported.append((endpoint, backlog.requests if backlog is not None else None))
            return super().acquire(endpoint, backlog)

    reported: list[tuple[str, float | None]] = []
    emu = make_emulator(per_day=2500, days=2)  # 50 pages
    days = ("2026-10-01", "2026-10-02")
    reader = StripeReader(emu.api_key, emu.url, limiter=Probe(Limits(account=1e6, endpoint=1e6), MemoryBudgetStore()))
    report = load_partitions(
        reader, Warehouse(duckdb_path), get_resource("charges"), windows(*days),
        LoadOptions(
            columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id="r", concurrency=4
        ),
    )
    pages = report.stats.pages
    estimates = [left for endpoint, left in reported if endpoint == "GET /v1/charges"]
    assert len(estimates) == report.stats.requests and None not in estimates
    known = [left for left in estimates if left]  # before the first pages, nothing is known
    assert 0.5 * pages <= max(known) <= 1.5 * pages
    assert estimates[-1] <= 5  # the last requests expect little or nothing after them
    half = len(estimates) // 2
    assert sum(estimates[half:]) < sum(estimates[:half])


def test_a_load_reads_on_while_another_holds_the_warehouse_and_lands_once_it_is_free(
    make_emulator, duckdb_path, tmp_path, monkeypatch
):
    # Windows land from a thread of their own: a load waiting for the warehouse's lock (another
    # run writing) keeps reading Stripe meanwhile instead of stalling its requests.
    import threading

    from stripe_assets.ingest import landing

    monkeypatch.setattr(landing, "FLUSH_ROWS", 1)  # each window lands as soon as it is complete
    emu = make_emulator(per_day=150)  # 900 charges over 6 days: 9 pages of 100
    days = [f"2026-10-0{d}" for d in range(1, 7)]

    def run(path) -> object:
        return load_partitions(
            StripeReader(emu.api_key, emu.url), Warehouse(path), get_resource("charges"), windows(*days),
            LoadOptions(
                columns=default_columns(get_resource("charges")),
                settings=ValidationSettings(),
                run_id="r",
                concurrency=1,
            ),
        )

    requests = run(tmp_path / "free.duckdb").stats.requests  # what the whole read takes
    served = emu.request_count
    done: dict[str, object] = {}
    load = threading.Thread(target=lambda: done.setdefault("report", run(duckdb_path)))
    load.start()
    # Generous: the loops end as soon as the reads are in, the deadline only stops a stalled read.
    deadline = time.monotonic() + 180
    while emu.request_count == served and time.monotonic() < deadline:
        time.sleep(0.01)
    with Warehouse(duckdb_path).connect():  # another writer holds the warehouse
        while emu.request_count < served + requests and time.monotonic() < deadline:
            time.sleep(0.05)
        read_while_held = emu.request_count - served
        assert load.is_alive(), "nothing can land while the warehouse is held"
    load.join(180)
    assert read_while_held == requests, f"reading stalled at {read_while_held} of {requests} requests"
    report = done["report"]
    assert [o.window.key for o in report.outcomes] == sorted(days, reverse=True)
    assert len(table(duckdb_path, "charges")) == report.records_loaded == 900


def test_mapped_columns_of_another_type_hold_every_value_as_stripe_sent_it(emulator, duckdb_path):
    """Integers, booleans and objects mapped to VARCHAR land as their JSON text, never NULL."""
    from stripe_assets.ingest.columns import AddedColumn, apply_mapping

    columns = apply_mapping(
        get_resource("charges"),
        add={
            "amount_text": AddedColumn("amount", "VARCHAR"),
            "paid_text": AddedColumn("paid", "VARCHAR"),
            "outcome_text": AddedColumn("outcome", "VARCHAR"),
            "amount_real": AddedColumn("amount", "DOUBLE"),
        },
    )
    load_partitions(
        StripeReader(emulator.api_key, emulator.url), Warehouse(duckdb_path), get_resource("charges"),
        windows("2026-10-03"),
        LoadOptions(columns=columns, settings=ValidationSettings(), run_id="run-1"),
    )
    rows = table(
        duckdb_path, "charges",
        "amount_text, amount::VARCHAR, paid_text, paid::VARCHAR, outcome_text::JSON = (raw->'$.outcome'), "
        "outcome_text IS NULL, amount_real = amount",
    )
    assert rows
    for amount_text, amount, paid_text, paid, same_outcome, outcome_missing, same_amount in rows:
        assert (amount_text, paid_text, same_amount) == (amount, paid, True)
        assert same_outcome or outcome_missing
    assert any(not row[5] for row in rows), "some charges carry an outcome"


def test_a_value_a_column_cannot_hold_sends_the_record_to_quarantine_not_null(emulator, duckdb_path):
    """A nested value of the wrong type (a mapped column's or a default one's) fails the record with
    the path, like a top-level type error, instead of landing the column NULL."""
    from stripe_assets.ingest.columns import AddedColumn, apply_mapping
    from stripe_assets_tests.ingest.loopback import list_api

    start, end = day_window("2026-10-03")
    served = [dict(o) for o in emulator.objects("charges", start, end)]
    carded = [o for o in served if (o.get("payment_method_details") or {}).get("card")]
    nested, brand = carded[0], carded[1]
    for obj, field, value in ((nested, "exp_year", "2031"), (brand, "brand", 4)):
        details = obj["payment_method_details"]
        obj["payment_method_details"] = {**details, "card": {**details["card"], field: value}}

    def page(query: dict[str, str]) -> dict:  # newest first, as Stripe lists
        items = [o for o in served if int(query["created[gte]"]) <= o["created"] < int(query["created[lt]"])]
        if "starting_after" in query:
            items = items[[o["id"] for o in items].index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        return {"object": "list", "url": "/v1/charges", "has_more": len(items) > limit, "data": items[:limit]}

    api = list_api(page)
    try:
        report = load_partitions(
            StripeReader(emulator.api_key, api.url), Warehouse(duckdb_path), get_resource("charges"),
            windows("2026-10-03"),
            LoadOptions(
                columns=apply_mapping(
                    get_resource("charges"), add={"exp_year": AddedColumn("payment_method_details.card.exp_year")}
                ),
                settings=ValidationSettings(threshold_pct=20),
                run_id="run-1",
            ),
        )
    finally:
        api.stop()

    assert report.records_rejected == 2 and not report.failures
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        quarantined = conn.execute(
            "SELECT id, column_name, reason FROM stripe_quarantine.charges ORDER BY id"
        ).fetchall()
        landed = conn.execute("SELECT id, exp_year, card_brand FROM stripe.charges").fetchall()
    assert sorted(quarantined) == sorted([
        (nested["id"], "exp_year", "payment_method_details.card.exp_year: expected an integer, got str"),
        (brand["id"], "card_brand", "payment_method_details.card.brand: expected a string, got int"),
    ])
    assert {i for i, _, _ in landed} == {o["id"] for o in served} - {nested["id"], brand["id"]}
    cards = {c["id"] for c in carded}
    assert all(year is not None and name is not None for i, year, name in landed if i in cards)
