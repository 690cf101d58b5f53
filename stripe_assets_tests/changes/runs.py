"""Runs of one resource as the asset makes them (changes from events, then the load), in plain
Python, on the DuckDB file or a DuckLake; and the warehouse compared with the emulator."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.changes.sync import contiguous, plan_changes
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, Window, merge_reports
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.lake import Lake

BACKENDS = ["duckdb-file", "ducklake-postgres"]


def open_backend(kind: str, tmp_path: Path, request) -> Warehouse:
    """The DuckDB file, or a DuckLake whose catalog is in the session's Postgres."""
    if kind == "duckdb-file":
        return Warehouse(tmp_path / "stripe.duckdb")
    postgres, db = request.getfixturevalue("postgres"), request.getfixturevalue("postgres_db")
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(db)}", str(tmp_path / "lake-data"), tmp_path)
    return Warehouse("unused.duckdb", lake=lake)


@dataclass(frozen=True)
class Days:
    """The emulator's days as daily partitions."""

    start: date
    count: int

    def window(self, day: int) -> Window:
        begin = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) + timedelta(days=day)
        return Window(begin.date().isoformat(), begin, begin + timedelta(days=1))

    def window_of(self, created: int) -> Window | None:
        for day in range(self.count):
            window = self.window(day)
            if window.start.timestamp() <= created < window.end.timestamp():
                return window
        return None


def run(
    reader: StripeReader, warehouse: Warehouse, resource: str, windows: Sequence[Window], run_id: str, days: Days
) -> LoadReport:
    """One run of `resource`: the changes since its cursor with its first windows, as the asset does."""
    columns = default_columns(get_resource(resource))
    plan = plan_changes(
        reader, warehouse, get_resource(resource), columns=columns, window_of=days.window_of, run_id=run_id
    )
    reports = [
        load_partitions(
            reader, warehouse, get_resource(resource), group,
            LoadOptions(columns=columns, settings=ValidationSettings(), run_id=run_id),
            before_first_write=plan.write if i == 0 else None,
        )
        for i, group in enumerate(contiguous([*windows, *plan.reread]))
    ]
    plan.finish(warehouse)
    return merge_reports(reports) if len(reports) > 1 else reports[0]


class HoldingReader(StripeReader):
    """A real reader whose list pages of one resource, once answered, wait until `release` is set:
    the run's fetch is taken, and lands only when the test lets it (like a slow proxy)."""

    def __init__(self, *args, holding: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.holding = holding
        self.held, self.release = threading.Event(), threading.Event()

    def get_page(self, path, params, stats, backlog=None, lean=None, texts=False):
        page = super().get_page(path, params, stats, backlog, lean, texts)
        if path == self.holding:
            self.held.set()
            assert self.release.wait(120), "the test never released the held page"
        return page


def rows(warehouse: Warehouse, resource: str) -> dict[str, tuple[dict, datetime | None]]:
    """id -> (raw object, _deleted_at) of every row."""
    with warehouse.connect(read_only=True) as conn:
        found = conn.execute(f"SELECT id, raw, _deleted_at FROM stripe.{resource}").fetchall()
    return {i: (orjson.loads(raw), deleted) for i, raw, deleted in found}


def differences(warehouse: Warehouse, emulator, resource: str, windows: Sequence[Window]) -> list[str]:
    """Rows of `windows` that differ from the emulator's current objects (a deleted object: its
    state when deleted, marked), and listed objects without a row; empty when the warehouse
    equals it."""
    low, high = min(w.start for w in windows), max(w.end for w in windows)
    truth = {o["id"]: o for o in emulator.objects(resource, low, high, include_hidden=True)}
    deleted = {
        e["data"]["object"]["id"]: e["data"]["object"]
        for e in emulator.events()
        if e["type"] in get_resource(resource).deletion_events and e["data"]["object"]["id"] in truth
    }
    held = {
        i: row for i, row in rows(warehouse, resource).items()
        if low.timestamp() <= row[0]["created"] < high.timestamp()
    }  # fmt: skip
    listed = set(emulator.listable_ids(resource, low, high))
    found = []
    for object_id in sorted(set(truth) | set(held)):
        if object_id not in held:
            if object_id in listed:  # (one deleted before any load of it: Stripe never listed it)
                found.append(f"{object_id}: no row")
            continue
        raw, deleted_at = held[object_id]
        expected = deleted.get(object_id) if deleted_at is not None else truth.get(object_id)
        if raw != expected:
            changed = sorted(k for k in set(raw) | set(expected or {}) if raw.get(k) != (expected or {}).get(k))
            fields = ", ".join(f"{k}={raw.get(k)!r}" for k in changed[:3])
            found.append(f"{object_id}: {fields} is not the current state")
        elif (object_id in deleted) != (deleted_at is not None):
            found.append(f"{object_id}: deleted in Stripe {object_id in deleted}, marked {deleted_at}")
    return found
