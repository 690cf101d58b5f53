"""End-to-end ingestion benchmark: emulator (real HTTP) → client → validation → DuckDB.

Loads 7 days × N objects/day of all six resources from the local emulator at zero latency, one
ranged load per resource (as a single-run backfill does), and prints records/s end to end, the
time spent per stage and the peak memory of the process.

    python benchmarks/ingest.py [--per-day 2000] [--days 7]
"""

from __future__ import annotations

import argparse
import platform
import resource as rusage
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import Window, load_partitions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=2000, help="objects per day per resource")
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()

    start = date(2026, 10, 1)
    windows = [
        Window(f"{d:%Y-%m-%d}", datetime(d.year, d.month, d.day, tzinfo=UTC),
               datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1))
        for d in (start + timedelta(days=i) for i in range(args.days))
    ]
    config = EmulatorConfig(seed=1, start=start, days=args.days, per_day=args.per_day)
    print(f"python {platform.python_version()}, {platform.machine()}, per_day={args.per_day}, days={args.days}")
    print(f"{'resource':<22}{'records':>9}{'seconds':>9}{'rec/s':>9}{'fetch s':>9}{'valid. s':>9}{'write s':>9}")
    total_records = 0
    began = time.perf_counter()
    # The emulator serves from its own process, so its cost is not counted as ingestion time.
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp:
        reader = StripeReader(emu.api_key, emu.url)
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        for name in RESOURCE_NAMES:
            report = load_partitions(
                reader, warehouse, name, windows,
                columns=default_columns(name), settings=ValidationSettings(), run_id="bench",
            )
            total_records += report.records_fetched
            print(
                f"{name:<22}{report.records_fetched:>9}{report.seconds:>9.2f}"
                f"{report.records_fetched / report.seconds:>9.0f}{report.stats.seconds:>9.2f}"
                f"{report.validate_seconds:>9.2f}{report.write_seconds:>9.2f}"
            )
    elapsed = time.perf_counter() - began
    peak_mb = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total: {total_records} records in {elapsed:.1f}s = {total_records / elapsed:.0f} records/s end to end "
          f"(emulator in its own process); peak RSS of the loader {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
