"""Four runs at once: writing through a shared DuckLake vs queued on the single DuckDB file.

Four loads (charges, subscriptions, customers, refunds; N days × M objects a day each) from the
local emulator, each in its own process as four runs on four workers would be, three ways:

  sequential   one after another, on the DuckDB file (the baseline)
  duckdb-file  all four at once on the DuckDB file: writers take turns on its file lock
  ducklake     all four at once on a DuckLake, catalog in a local PostgreSQL, data in a folder

and prints wall time, rows/s, and the time the loads spent writing.

    python benchmarks/concurrent_writes.py [--per-day 2000] [--days 7]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from rate_limit import windows  # this folder's benchmarks share their window builder

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.lake import Lake
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.services.postgres import running_postgres

RESOURCES = ["charges", "subscriptions", "customers", "refunds"]
START = date(2026, 10, 1)


def _load(target: str | Lake, api_key: str, api_base: str, resource: str, days: int, go) -> tuple[int, float, float]:
    """One run: (rows fetched, seconds, seconds spent writing)."""
    warehouse = Warehouse(lake=target) if isinstance(target, Lake) else Warehouse(target)
    if go is not None:
        go.wait()
    report = load_partitions(
        StripeReader(api_key, api_base), warehouse, get_resource(resource), windows(START, days),
        LoadOptions(
            columns=default_columns(get_resource(resource)),
            settings=ValidationSettings(),
            run_id=f"bench-{resource}-{os.getpid()}",
        ),
    )
    return report.records_fetched, report.seconds, report.write_seconds


def _concurrently(target, emu, days: int) -> tuple[float, list[tuple[int, float, float]]]:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(len(RESOURCES)) as pool:
        go = manager.Barrier(len(RESOURCES) + 1)
        pending = [pool.apply_async(_load, (target, emu.api_key, emu.url, r, days, go)) for r in RESOURCES]
        go.wait()  # every worker imported and ready: start the clock with the loads
        began = time.perf_counter()
        results = [p.get() for p in pending]
        return time.perf_counter() - began, results


def _sequentially(target, emu, days: int) -> tuple[float, list[tuple[int, float, float]]]:
    context = multiprocessing.get_context("spawn")
    results, elapsed = [], 0.0
    with context.Pool(1) as pool:
        pool.apply(time.sleep, (0,))  # the worker's start-up is not load time
        for resource in RESOURCES:
            began = time.perf_counter()
            results.append(pool.apply(_load, (target, emu.api_key, emu.url, resource, days, None)))
            elapsed += time.perf_counter() - began
    return elapsed, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=2000, help="objects per day per resource")
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    config = EmulatorConfig(seed=1, start=START, days=args.days, per_day=args.per_day)
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"per_day={args.per_day}, days={args.days}, runs={len(RESOURCES)} ({', '.join(RESOURCES)})")
    print(f"{'mode':<13}{'rows':>9}{'wall s':>9}{'rows/s':>9}{'write s (sum)':>15}{'slowest run s':>15}")
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp, \
            running_postgres() as postgres:
        postgres.create_database("bench_lake")
        lake = Lake.parse(f"ducklake:postgres:{postgres.dsn('bench_lake')}", str(Path(tmp) / "lake"), Path(tmp))
        modes = [
            ("sequential", _sequentially, str(Path(tmp) / "sequential.duckdb")),
            ("duckdb-file", _concurrently, str(Path(tmp) / "concurrent.duckdb")),
            ("ducklake", _concurrently, lake),
        ]
        for name, runner, target in modes:
            wall, results = runner(target, emu, args.days)
            rows = sum(r[0] for r in results)
            print(f"{name:<13}{rows:>9}{wall:>9.1f}{rows / wall:>9.0f}"
                  f"{sum(r[2] for r in results):>15.1f}{max(r[1] for r in results):>15.1f}")


if __name__ == "__main__":
    main()
