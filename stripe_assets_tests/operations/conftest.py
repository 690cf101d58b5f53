from __future__ import annotations

import shutil

import pytest
import requests

from stripe_assets_emulator import ConnectConfig, EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_tests.conftest import EMULATOR_DAYS, EMULATOR_START
from stripe_assets_tests.operations.harness import make_project


@pytest.fixture(scope="session")
def three_versions_template(tmp_path_factory, emulator):
    """Run A loads 2026-10-03 and 2026-10-04; B reloads 10-03 with a few invalid records
    (quarantined, within the threshold); C reloads 10-03 from other data of the same account.
    Built once; each test gets a copy (`three_versions`)."""
    made = make_project(tmp_path_factory.mktemp("three_versions") / "project", emulator)

    # The same Stripe account (its id) serving other objects: each load replaces the one before.
    account = requests.get(
        f"{emulator.url}/v1/account", headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=30
    ).json()["id"]

    def other(seed: int = 11, **faults) -> EmulatorConfig:
        return EmulatorConfig(
            seed=seed,
            start=EMULATOR_START,
            days=EMULATOR_DAYS,
            per_day=30,
            faults=FaultConfig(**faults),
            connect=ConnectConfig(platform_id=account),
        )

    with start_emulator(other(invalid_fraction=0.04)) as some_invalid, start_emulator(other(seed=12)) as another:
        a = made.load(emulator, "charges", "2026-10-03", "2026-10-04")
        after_a = made.rows("charges")
        b = made.load(some_invalid, "charges", "2026-10-03")
        after_b = made.rows("charges")
        c = made.load(another, "charges", "2026-10-03")
        after_c = made.rows("charges")
    assert a.success and b.success and c.success
    assert after_b[1] and not after_a[1], "B quarantined records, A did not"
    assert {r[0] for r in after_c[0]} != {r[0] for r in after_b[0]}, "C replaced 10-03 with other objects"
    return made, {"A": (a.run_id, after_a), "B": (b.run_id, after_b), "C": (c.run_id, after_c)}


@pytest.fixture
def three_versions(project, three_versions_template):
    """`project` holding the three versions: copies of the template's warehouse and instance."""
    template, versions = three_versions_template
    shutil.copytree(template.dagster_home, project.dagster_home, dirs_exist_ok=True)
    project.duckdb.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template.duckdb, project.duckdb)
    return versions
