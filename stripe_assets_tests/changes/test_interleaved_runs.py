"""Randomized: loads, change runs, reloads, rollbacks and overlapping runs interleaved with Stripe
moving on, on both backends; after every run every row equals the emulator's current object."""

from __future__ import annotations

import random
from datetime import date

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import LOADED, partition_loads
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.changes.runs import BACKENDS, Days, HoldingReader, differences, open_backend, run
from stripe_assets_tests.faults.test_fencing import in_background

DAYS = Days(date(2026, 10, 1), 4)
RESOURCES = {  # the changes the emulator can make to each
    "charges": ("charge_refunded", "charge_updated", "charge_captured", "charge_disputed"),
    "customers": ("customer_updated", "customer_deleted"),
}
STEPS = 8


def _days(rng: random.Random) -> list[Window]:
    first = rng.randrange(DAYS.count)
    last = rng.randrange(first, DAYS.count)
    return [DAYS.window(d) for d in range(first, last + 1)]


def _advance(rng: random.Random, emulator) -> None:
    room = emulator.changeable()
    kinds = [kind for kinds in RESOURCES.values() for kind in kinds]
    changes = {kind: min(rng.randint(0, 8), room.get(kind, 0)) for kind in rng.sample(kinds, 3)}
    emulator.advance(hours=rng.randint(1, 12), changes=changes, old_api_version_share=rng.choice([0.0, 0.3]))


def _loaded(warehouse: Warehouse, resource: str) -> list[Window]:
    """The partitions the warehouse holds (loaded by a run not rolled back)."""
    if not warehouse.exists():
        return []
    with warehouse.connect(read_only=True) as conn:
        keys = {load.partition for load in partition_loads(conn, resource) if load.active and load.status == LOADED}
    return [DAYS.window(d) for d in range(DAYS.count) if DAYS.window(d).key in keys]


def _overlapping(rng: random.Random, emulator, warehouse: Warehouse, resource: str, step: int) -> None:
    """Run A's fetch is held while Stripe moves on and run B lands; then A lands."""
    path = get_resource(resource).path
    slow = HoldingReader(emulator.api_key, emulator.url, holding=path)
    a, outcome = in_background(lambda: run(slow, warehouse, resource, _days(rng), f"run-{step}-a", DAYS))
    try:
        assert slow.held.wait(60), outcome
        _advance(rng, emulator)
        with StripeReader(emulator.api_key, emulator.url) as reader:
            run(reader, warehouse, resource, _days(rng), f"run-{step}-b", DAYS)
    finally:
        slow.release.set()
        a.join(120)
        slow.close()
    assert "error" not in outcome, outcome["error"]


@pytest.mark.slow  # the lake's catalog is a Postgres server of its own; about 3 minutes in all
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_interleaved_runs_keep_every_row_equal_to_stripe(seed, backend, tmp_path, request):
    rng = random.Random(seed)
    warehouse = open_backend(backend, tmp_path, request)
    config = EmulatorConfig(seed=seed, start=DAYS.start, days=DAYS.count, per_day=25)
    with start_emulator(config) as emulator, StripeReader(emulator.api_key, emulator.url) as reader:
        for resource in RESOURCES:
            run(reader, warehouse, resource, _days(rng), "run-first", DAYS)
        history: list[str] = []
        for step in range(STEPS):
            resource = rng.choice(list(RESOURCES))
            action = rng.choice(["load", "changes", "rollback", "overlap", "overlap"])
            history.append(f"{action} {resource}")
            if action != "overlap":
                _advance(rng, emulator)
            if action == "rollback":  # undo the newest run; the next run applies its changes again
                run_rollback(warehouse, RollbackRequest(resource, steps=1))
            if action == "overlap":
                _overlapping(rng, emulator, warehouse, resource, step)
            else:  # a load, a change run (a reload of one day), or the run after a rollback
                windows = _days(rng) if action == "load" else [DAYS.window(rng.randrange(DAYS.count))]
                run(reader, warehouse, resource, windows, f"run-{step}", DAYS)
            # The resource that ran (the other's changes arrive with its own next run).
            held = _loaded(warehouse, resource)
            found = differences(warehouse, emulator, resource, held) if held else []
            assert found == [], (history, found[:5])
