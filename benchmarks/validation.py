"""Validation throughput: realistic charges through `validate_records`, 1% of them invalid.

Charges come from the emulator's object builder (the shape Stripe serves, nested objects
included); N distinct base charges are repeated with fresh ids up to the batch size, and an
exact share is broken in five ways (wrong type, missing required field, null, bad id prefix,
amount_refunded > amount). Prints records/s for the whole batch (best of --repeat runs) and the
fixed cost of one call on a small batch.

    python benchmarks/validation.py [--records 100000] [--invalid-pct 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_emulator import EmulatorConfig, start_emulator

BASE_CHARGES = 5_000  # distinct charges built by the emulator; the rest are copies with new ids


def _break(record: dict, how: int) -> dict:
    broken = dict(record)
    if how == 0:
        broken["amount"] = str(broken["amount"])
    elif how == 1:
        del broken["currency"]
    elif how == 2:
        broken["paid"] = None
    elif how == 3:
        broken["id"] = "pi_" + broken["id"][3:]
    else:
        broken["amount_refunded"] = broken["amount"] + 100
    return broken


def realistic_charges(total: int, invalid_pct: float) -> list[dict]:
    with start_emulator(EmulatorConfig(seed=1, start=date(2026, 10, 1), days=1, per_day=BASE_CHARGES)) as emu:
        base = emu.objects("charges")
    records = [
        dict(base[i % len(base)], id=f"ch_{i // len(base):04d}{base[i % len(base)]['id'][3:]}")
        for i in range(total)
    ]
    every = round(100 / invalid_pct) if invalid_pct else 0
    for n, i in enumerate(range(0, total, every) if every else ()):
        records[i] = _break(records[i], n % 5)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--invalid-pct", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    records = realistic_charges(args.records, args.invalid_pct)
    validate_records(get_resource("charges"), records[:100])  # build the schema once, outside the timing
    best = float("inf")
    for _ in range(args.repeat):
        began = time.perf_counter()
        result = validate_records(get_resource("charges"), records)
        best = min(best, time.perf_counter() - began)
    small = records[:100]
    began = time.perf_counter()
    for _ in range(20):
        validate_records(get_resource("charges"), small)
    per_call_ms = (time.perf_counter() - began) / 20 * 1000

    print(f"python {platform.python_version()}, {platform.machine()}")
    print(
        f"{result.records_total:,} charges, {len(result.invalid):,} invalid "
        f"({100 * result.error_rate:.2f}%), {len(result.failures):,} failures"
    )
    print(f"validate_records: {best:.3f} s, {result.records_total / best:,.0f} records/s (best of {args.repeat})")
    print(f"one call on 100 charges: {per_call_ms:.1f} ms")


if __name__ == "__main__":
    main()
