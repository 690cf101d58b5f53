"""A Connect platform with many connected accounts, read at Stripe's live limits.

The emulator serves a platform with N connected accounts (most small: one object per resource
and day; every 5th empty) from its own process, with Stripe's page latency and live rate
limits (100 requests/s for the key, 25/s per endpoint). One Dagster run materializes every
resource's asset (and `stripe/accounts`) for the last day with `accounts: all`; every connected
account is new, so it is read from the dataflow's history start (the emulator's first day).
Reported: wall time, requests (in all and per connected account), objects landed per second,
and the requests an empty account cost.

    python benchmarks/connect.py [--accounts 1000] [--days 3] [--latency-ms 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_emulator.config import RATE_LIMIT_PRESETS, ConnectConfig

START = date(2026, 10, 1)


def _dataflows(days: int) -> str:
    flows = "\n".join(
        f"  - {{name: stripe_{r}, resource: {r}, history_start: '{START}T00:00:00Z', start_time: '{START}T00:10:00Z'}}"
        for r in RESOURCE_NAMES
    )
    # 80 % of Stripe's live 100/s, as the project's default for live keys (the emulator's key is a test key).
    return f"api:\n  accounts: all\n  requests_per_second: 80\ndataflows:\n{flows}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    args = parser.parse_args()
    config = EmulatorConfig(
        seed=7,
        start=START,
        days=args.days,
        per_day=5,
        faults=FaultConfig(latency_ms=args.latency_ms, rate_limit=RATE_LIMIT_PRESETS["stripe-live"]),
        connect=ConnectConfig(accounts=args.accounts, per_day=1, empty_every=5),
    )
    with tempfile.TemporaryDirectory() as tmp, start_emulator(config, separate_process=True) as emu:
        home = Path(tmp)
        (home / "dataflows.yaml").write_text(_dataflows(args.days))
        os.environ.update(
            STRIPE_API_KEY=emu.api_key,
            STRIPE_API_BASE=emu.url,
            STRIPE_ASSETS_DUCKDB_PATH=str(home / "stripe.duckdb"),
            STRIPE_ASSETS_DATAFLOWS=str(home / "dataflows.yaml"),
            DAGSTER_HOME=tmp,
        )
        import dagster as dg

        from stripe_assets.definitions import defs as load_defs
        from stripe_assets.ingest.warehouse import Warehouse

        definitions = load_defs()
        assets = [a for a in definitions.assets or () if isinstance(a, dg.AssetsDefinition)]
        last = (START + timedelta(days=args.days - 1)).isoformat()
        before = emu.request_count
        began = time.perf_counter()
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                assets, instance=instance, resources=definitions.resources, partition_key=last, raise_on_error=False
            )
        seconds = time.perf_counter() - began
        requests = emu.request_count - before
        with Warehouse(home / "stripe.duckdb").connect(read_only=True) as conn:
            objects = sum(
                conn.execute(f"SELECT count(*) FROM {get_resource(r).table}").fetchone()[0]  # type: ignore[index]
                for r in RESOURCE_NAMES
            )
            accounts = conn.execute("SELECT count(*) FROM stripe.accounts").fetchone()[0]  # type: ignore[index]
        access = emu.account_access()["accounts"]
        empty = [a["requests"] for i, a in enumerate(access) if i % 5 == 0]
        print(
            f"python {platform.python_version()}, {os.cpu_count()} cores; {args.accounts} connected accounts "
            f"(every 5th empty, the others 1 object per resource and day), {args.days} days, "
            f"{args.latency_ms:g} ms latency, stripe-live limits (100/s, 25/s per endpoint)\n"
            f"run {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s; {requests:,} requests "
            f"({requests / max(args.accounts, 1):.1f} per connected account, {requests / seconds:.1f}/s); "
            f"{objects:,} objects landed ({objects / seconds:.1f} objects/s); {accounts} rows in stripe.accounts; "
            f"an empty account: {min(empty)}-{max(empty)} requests for its {len(RESOURCE_NAMES)} resources"
        )


if __name__ == "__main__":
    main()
