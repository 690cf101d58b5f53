"""`make demo` end to end: the real CLI loads every asset, the terminal and the log file show every
step Dagster recorded, and the summary printed is what the warehouse holds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations import summary
from stripe_assets.operations.demo_emulator import free_port


@pytest.mark.slow
def test_the_demo_shows_every_step_dagster_recorded_and_the_summary_of_the_warehouse(tmp_path):
    home = tmp_path / "project"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DAGSTER_COMPUTE_LOG"))}
    env["DAGSTER_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "stripe_assets.operations.demo", "--port", str(free_port()), "--days", "2"],
        env=env, cwd=home, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    steps = len(RESOURCE_NAMES)
    assert f": SUCCESS, {steps} of {steps} steps succeeded" in done.stdout
    # Every step's end reaches the terminal and the log file, as Dagster recorded it.
    shown = [line for line in done.stdout.splitlines() if line.startswith("  Finished execution of step")]
    logged = (home / "data" / "demo-materialize.log").read_text()
    # The real `dagster asset materialize` runs, without Dagster's notice that `dg launch` supersedes it.
    assert "SupersessionWarning" not in done.stdout + done.stderr + logged
    assert len(shown) == logged.count(" - STEP_SUCCESS - ") == steps
    # The summary printed is the warehouse's.
    warehouse = Warehouse(home / "data" / "stripe.duckdb")
    tables = summary.summarize(warehouse)
    assert [t.resource for t in tables] == list(RESOURCE_NAMES)
    for table in tables:
        [line] = [x for x in done.stdout.splitlines() if x.startswith(f"stripe.{table.resource} ")]
        cells = line.split()
        assert cells[1:3] == [table.group, str(table.rows)] and table.rows > 0
        assert "2 of 2" in line  # both days hold rows
        assert cells[-2:] == ["2", "0"]  # checks passed, failed
