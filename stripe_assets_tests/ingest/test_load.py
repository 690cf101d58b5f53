"""One load end to end over real HTTP: emulator → client → validation → DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import Window, load_partitions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window


def windows(*days: str) -> list[Window]:
    return [Window(d, *day_window(d)) for d in days]


def load(emu, path, resource, *days, settings=ValidationSettings(), run_id="run-1"):
    return load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(path), resource, windows(*days),
        columns=default_columns(resource), settings=settings, run_id=run_id,
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


class OldestFirstApi:
    """A Stripe-like list endpoint that pages oldest first (against Stripe's documented order),
    serving the emulator's objects, to prove no window is landed half-complete."""

    def __init__(self, objects: list[dict]):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlparse

        ordered = sorted(objects, key=lambda o: (o["created"], o["id"]))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                items = [
                    o
                    for o in ordered
                    if int(query.get("created[gte]", 0)) <= o["created"] < int(query.get("created[lt]", 2**40))
                ]
                if "starting_after" in query:
                    items = items[[o["id"] for o in items].index(query["starting_after"]) + 1 :]
                limit = int(query.get("limit", 10))
                body = json.dumps(
                    {"object": "list", "url": "/v1/charges", "has_more": len(items) > limit, "data": items[:limit]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_api_listing_out_of_order_still_lands_every_window_whole(emulator, duckdb_path):
    days = ("2026-10-02", "2026-10-03", "2026-10-04")
    start, end = day_window(days[0])[0], day_window(days[-1])[1]
    api = OldestFirstApi(emulator.objects("charges", start, end))
    landed = []
    try:
        report = load_partitions(
            StripeReader("sk_test_any", api.url),
            Warehouse(duckdb_path),
            "charges",
            windows(*days),
            columns=default_columns("charges"),
            settings=ValidationSettings(),
            run_id="run-1",
            on_partition=lambda outcome, _: landed.append(outcome.window.key),
        )
    finally:
        api.close()
    assert report.refetched > 0
    assert sorted(landed) == list(days)  # each window landed once, never half-complete first
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM stripe_meta.loads").fetchone()[0] == len(days)
    assert sorted(table(duckdb_path, "charges")) == sorted(
        (i, d) for d in days for i in emulator.listable_ids("charges", *day_window(d))
    )


def test_versions_beyond_the_retention_are_pruned_after_each_load(emulator, duckdb_path):
    from stripe_assets.ingest.warehouse.history import HistoryRetention

    for run in ("r1", "r2", "r3"):
        load_partitions(
            StripeReader(emulator.api_key, emulator.url),
            Warehouse(duckdb_path),
            "prices",
            windows("2026-10-03"),
            columns=default_columns("prices"),
            settings=ValidationSettings(),
            run_id=run,
            retention=HistoryRetention(keep_versions=1),
        )
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        kept = conn.execute("SELECT DISTINCT _replaced_by_run FROM stripe_history.prices").fetchall()
    assert kept == [("r3",)]  # only the newest load can still be rolled back
