"""End-to-end ingestion benchmark: emulator (real HTTP) → client → validation → DuckDB.

Loads 7 days × N objects/day of every declared resource from the local emulator at zero latency
(or at Stripe's live-mode rate limits, `--live-limits`), one ranged load per resource (as a
single-run backfill does; child lists after their parents, read from them), and prints records/s
end to end, the time spent per stage and the peak memory of the process.

    python benchmarks/ingest.py [--per-day 2000] [--days 7] [--live-limits]
"""

from __future__ import annotations

import argparse
import platform
import resource as rusage
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.children import load_children
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_emulator.config import RATE_LIMIT_PRESETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=2000, help="objects per day per resource")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--live-limits", action="store_true", help="the emulator enforces Stripe's live-mode limits")
    args = parser.parse_args()

    start = date(2026, 10, 1)
    windows = [
        Window(f"{d:%Y-%m-%d}", datetime(d.year, d.month, d.day, tzinfo=UTC),
               datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1))
        for d in (start + timedelta(days=i) for i in range(args.days))
    ]
    faults = FaultConfig(rate_limit=RATE_LIMIT_PRESETS["stripe-live"]) if args.live_limits else FaultConfig()
    config = EmulatorConfig(seed=1, start=start, days=args.days, per_day=args.per_day, faults=faults)
    print(f"python {platform.python_version()}, {platform.machine()}, per_day={args.per_day}, days={args.days}, "
          f"limits={'stripe-live' if args.live_limits else 'none'}")
    print(f"{'resource':<22}{'records':>9}{'seconds':>9}{'rec/s':>9}{'fetch s':>9}{'valid. s':>9}{'write s':>9}")
    total_records = 0
    began = time.perf_counter()
    # The emulator serves from its own process, so its cost is not counted as ingestion time.
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp:
        reader = StripeReader(emu.api_key, emu.url)
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        # Parents first: a child list is read from its parent's table.
        for name in sorted(RESOURCE_NAMES, key=lambda n: child_of(get_resource(n)) is not None):
            load = load_children if child_of(get_resource(name)) is not None else load_partitions
            report = load(
                reader, warehouse, get_resource(name), windows,
                LoadOptions(columns=default_columns(get_resource(name)), settings=ValidationSettings(), run_id="bench"),
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
