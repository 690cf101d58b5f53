"""Applying changes from event payloads: changed objects per second, against a naive baseline.

A warehouse holds N charges over 30 daily partitions (landed like any load). Then E events
(`charge.updated`, several per object for some) arrive; the measured path is what a load does
with them: collapse to the newest change per object, validate, build the Arrow batch and write
it in one transaction with the displaced rows kept for rollback. The naive baseline applies each
event on its own (validate one object, replace its row, keep the old one), as an event-by-event
webhook consumer would; it runs on a sample and is reported per event.

    python benchmarks/changes.py [--rows 60000] [--changed 20000] [--baseline-events 200]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.changes.batch import build_batch
from stripe_assets.ingest.changes.events import EventScan, _change_of
from stripe_assets.ingest.changes.write import write_changes
from stripe_assets.ingest.columns import apply_mapping
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets_emulator import EmulatorConfig, start_emulator

START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30


def window_of(created: int) -> Window | None:
    day = (created - int(START.timestamp())) // 86400
    if not 0 <= day < DAYS:
        return None
    start = START + timedelta(days=day)
    return Window(start.strftime("%Y-%m-%d"), start, start + timedelta(days=1))


def _constant(key: str) -> Callable[[dict], str]:
    return lambda _record: key


def charges(total: int) -> list[dict]:
    per_day = -(-total // DAYS)
    with start_emulator(EmulatorConfig(seed=3, start=date(2026, 10, 1), days=DAYS, per_day=per_day)) as emu:
        return emu.objects("charges")[:total]


def load(warehouse: Warehouse, records: list[dict], columns) -> None:
    by_day: dict[str, list[dict]] = {}
    for r in records:
        by_day.setdefault(window_of(r["created"]).key, []).append(r)  # type: ignore[union-attr]
    writes = []
    for key, rows in by_day.items():
        w = window_of(rows[0]["created"])
        assert w is not None
        result = validate_records(get_resource("charges"), rows)
        writes.append(
            WindowWrite(
                key, w.start, w.end,
                to_arrow(result.valid, columns, partition_of=_constant(key), run_id="load", loaded_at=START),
                quarantine_table(result, partition_key=key, run_id="load"),
                {"resource": "charges", "partition": key, "window_start": w.start, "window_end": w.end,
                 "run_id": "load", "status": "loaded", "records_fetched": len(rows), "records_loaded": len(rows),
                 "records_rejected": 0, "error_rate_pct": 0.0, "threshold_pct": 5.0},
            )
        )  # fmt: skip
    warehouse.apply(get_resource("charges"), columns, QUARANTINE_COLUMNS, writes)


def events(records: list[dict], changed: int) -> list[dict]:
    """Newest first, like GET /v1/events: every changed object once, a quarter of them twice."""
    out = []
    at = int((START + timedelta(days=DAYS + 1)).timestamp())
    for n, record in enumerate(records[:changed] + records[: changed // 4]):
        obj = copy.copy(record)
        obj["description"] = f"edited {n}"
        obj["metadata"] = {**record["metadata"], "ticket": str(n)}
        out.append(
            {"id": f"evt_{n:020d}", "object": "event", "api_version": API_VERSION, "created": at + n,
             "type": "charge.updated", "data": {"object": obj, "previous_attributes": {"description": None}}}
        )  # fmt: skip
    out.reverse()
    return out


def apply_batched(
    warehouse: Warehouse, payloads: list[dict], columns
) -> tuple[float, float, int, dict[str, float]]:
    """Wall seconds, CPU seconds (all threads: what a busy machine cannot inflate), objects
    updated, and wall seconds per step."""
    began, cpu = time.perf_counter(), time.process_time()
    steps: dict[str, float] = {}
    spec = get_resource("charges")
    scan = EventScan(events_read=len(payloads))
    for event in payloads:
        change = _change_of(event, spec, {}, set())
        if change is not None and change.object_id not in scan.changes:
            scan.changes[change.object_id] = change
    steps["collapse"] = time.perf_counter() - began
    batch = build_batch(scan, spec, columns=columns, window_of=window_of, run_id="changes")
    steps["validate + rows"] = time.perf_counter() - began - sum(steps.values())
    with warehouse.connect() as conn:
        conn.execute("BEGIN TRANSACTION")
        written = write_changes(conn, batch, run_id="changes", window_of=window_of)
        steps["write"] = time.perf_counter() - began - sum(steps.values())
        conn.execute("COMMIT")
    steps["commit"] = time.perf_counter() - began - sum(steps.values())
    return time.perf_counter() - began, time.process_time() - cpu, written.rows_updated, steps


def apply_naive(warehouse: Warehouse, payloads: list[dict], columns) -> float:
    """Each event on its own: validate, keep the old row, replace it (one transaction each)."""
    began = time.perf_counter()
    with warehouse.connect() as conn:
        for event in payloads:
            obj = event["data"]["object"]
            result = validate_records(get_resource("charges"), [obj])
            key = window_of(obj["created"]).key  # type: ignore[union-attr]
            row = to_arrow(result.valid, columns, partition_of=_constant(key), run_id="naive", loaded_at=START)
            conn.execute("BEGIN TRANSACTION")
            conn.register("_one", row)
            conn.execute(
                "INSERT INTO stripe_history.charges BY NAME SELECT *, 'naive' AS _replaced_by_run, "
                "_partition AS _replaced_partition, now() AS _replaced_at FROM stripe.charges WHERE id = ?",
                [obj["id"]],
            )
            conn.execute("DELETE FROM stripe.charges WHERE id = ?", [obj["id"]])
            conn.execute("INSERT INTO stripe.charges BY NAME SELECT * FROM _one")
            conn.unregister("_one")
            conn.execute("COMMIT")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--changed", type=int, default=20_000)
    parser.add_argument("--baseline-events", type=int, default=200)
    args = parser.parse_args()
    columns = apply_mapping(get_resource("charges"))
    records = charges(args.rows)
    payloads = events(records, args.changed)
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"warehouse: {len(records):,} charges in {DAYS} daily partitions; {len(payloads):,} events "
          f"for {args.changed:,} objects")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "batched.duckdb")
        load(warehouse, records, columns)
        seconds, cpu, updated, steps = apply_batched(warehouse, payloads, columns)
        assert updated == args.changed, updated
        print(f"batched (collapse, validate, one transaction): {updated:,} objects in {seconds:.2f} s "
              f"= {updated / seconds:,.0f} changed objects/s; "
              f"CPU {cpu:.2f} s = {updated / cpu:,.0f} per CPU-second")  # fmt: skip
        print("  steps: " + ", ".join(f"{name} {value:.2f} s" for name, value in steps.items()))
        naive = Warehouse(Path(tmp) / "naive.duckdb")
        load(naive, records, columns)
        sample = payloads[: args.baseline_events]
        cpu_before = time.process_time()
        naive_seconds = apply_naive(naive, sample, columns)
        naive_cpu = time.process_time() - cpu_before
        rate = len(sample) / naive_seconds
        print(f"naive (event by event): {len(sample):,} events in {naive_seconds:.2f} s = {rate:,.0f} events/s; "
              f"CPU {naive_cpu:.2f} s = {len(sample) / naive_cpu:,.0f} per CPU-second")  # fmt: skip
        print(f"speed-up: {updated / seconds / rate:,.1f}x")


if __name__ == "__main__":
    main()
