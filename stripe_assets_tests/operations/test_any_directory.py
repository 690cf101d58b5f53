"""The CLI reads the project's warehouse and run history from whatever folder it is started in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from stripe_assets.dagster.assets import build_stripe_asset
from stripe_assets.dagster.resources import StripeApiResource, WarehouseResource
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.operations.harness import DATAFLOWS

REPO = Path(__file__).resolve().parents[2]


def test_the_cli_in_a_sub_folder_reads_the_projects_warehouse_and_runs(tmp_path, emulator, monkeypatch):
    # A project laid out as the repo is: dagster.yaml and dataflows.yaml at the top, the
    # warehouse at its default relative path, DAGSTER_HOME pointing at the top.
    home = tmp_path / "project"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    (home / "dataflows.yaml").write_text(DATAFLOWS)
    for name in ("STRIPE_ASSETS_DUCKDB_PATH", "STRIPE_ASSETS_DATAFLOWS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("STRIPE_API_KEY", emulator.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", emulator.url)
    monkeypatch.chdir(home)
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [build_stripe_asset(load_dataflows().for_resource("charges"))],
            instance=instance,
            partition_key="2026-10-03",
            resources={
                "stripe_api": StripeApiResource(api_key=emulator.api_key, api_base=emulator.url),
                "stripe_warehouse": WarehouseResource(),
            },
        )
    assert result.success
    assert (home / "data" / "stripe.duckdb").exists()

    sub = home / "notebooks" / "scratch"
    sub.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("STRIPE_ASSETS_DUCKDB_PATH", "STRIPE_ASSETS_DATAFLOWS")}

    def cli(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "stripe_assets.cli", *args, "--json"],
            cwd=sub, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    status = {s["dataflow"]: s for s in cli("status")["dataflows"]}
    runs = cli("runs", "charges")["runs"]

    expected_rows = len(emulator.listable_ids("charges", *day_window("2026-10-03")))
    assert status["stripe_charges"]["rows"] == expected_rows
    assert status["stripe_charges"]["last_run_id"] == result.run_id
    assert [r["run_id"] for r in runs] == [result.run_id]
    assert list(sub.iterdir()) == [], "nothing is created in the working directory"
