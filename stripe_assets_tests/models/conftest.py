"""An account spanning a month's end, loaded completely into a warehouse by the real assets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dagster as dg
import pytest

from stripe_assets.dagster.factory import StripeDefinitions, StripeParts, build_stripe_definitions
from stripe_assets.dagster.resources import StripeApiResource, WarehouseResource
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets_emulator import EmulatorConfig, RunningEmulator, start_emulator
from stripe_assets_tests.conftest import UNPACED_API
from stripe_assets_tests.operations.harness import RANGE_END, RANGE_START, Project, make_project

START = date(2026, 9, 27)
DAYS = 6  # 2026-09-27 .. 2026-10-02: MRR in two months
FIRST, LAST = "2026-09-27", "2026-10-02"
RESOURCES = (
    "balance_transactions", "charges", "refunds", "disputes", "payouts", "customers", "subscriptions",
    "subscription_items", "payout_balance_transactions",
)


def dataflows_text() -> str:
    lines = [UNPACED_API + "dataflows:"]
    for resource in RESOURCES:
        lines.append(
            f"  - {{name: stripe_{resource}, resource: {resource}, start_time: {FIRST}T00:10:00Z, "
            f"history_start: {FIRST}T00:00:00Z}}"
        )
    return "\n".join(lines) + "\n"


def definitions(project: Project, emulator: RunningEmulator) -> dg.Definitions:
    return build_stripe_definitions(
        StripeDefinitions(
            reload=lambda: load_dataflows(project.dataflows),
            resources=resources(project, emulator),
            parts=StripeParts(reconciliation=True, models=True),
        )
    )


def resources(project: Project, emulator: RunningEmulator) -> dict:
    return {
        "stripe_api": StripeApiResource(api_key=emulator.api_key, api_base=emulator.url),
        "stripe_warehouse": WarehouseResource(
            duckdb_path=str(project.duckdb),
            lake=project.lake,
            lake_data_path=str(project.lake_data) if project.lake_data else None,
        ),
    }


def load_everything(project: Project, emulator: RunningEmulator) -> dg.ExecuteInProcessResult:
    """Every resource's partitions FIRST..LAST in one run (the reconciliation check runs in it)."""
    defs = definitions(project, emulator)
    stripe_assets = [a for a in defs.assets or () if isinstance(a, dg.AssetsDefinition) and a.key.path[0] == "stripe"]
    checks = list(defs.asset_checks or ())
    with project.instance() as instance:
        return dg.materialize(
            [*stripe_assets, *checks],
            instance=instance,
            tags={RANGE_START: FIRST, RANGE_END: LAST},
            resources=resources(project, emulator),
            raise_on_error=False,
        )


def build_models(project: Project, emulator: RunningEmulator) -> dg.ExecuteInProcessResult:
    defs = definitions(project, emulator)
    assets = [a for a in defs.assets or () if isinstance(a, dg.AssetsDefinition)]
    with project.instance() as instance:
        return dg.materialize(
            assets,
            instance=instance,
            selection=dg.AssetSelection.groups("stripe_models"),
            resources=resources(project, emulator),
            raise_on_error=False,
        )


@pytest.fixture(scope="package")
def account() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(seed=21, start=START, days=DAYS, per_day=25)) as emu:
        yield emu


@pytest.fixture(scope="package")
def loaded(account, tmp_path_factory) -> Project:
    """A project with every resource loaded for the whole account, and the models built."""
    project = make_project(tmp_path_factory.mktemp("models") / "project", account)
    project.dataflows.write_text(dataflows_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(project.dagster_home))
        loaded = load_everything(project, account)
        assert loaded.success
        built = build_models(project, account)
        assert built.success
    project.load_result = loaded  # type: ignore[attr-defined]
    project.models_result = built  # type: ignore[attr-defined]
    return project
