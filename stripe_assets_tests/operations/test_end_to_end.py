"""The commands against runs launched by the real `dagster asset materialize` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stripe_assets_tests.conftest import day_window

DAGSTER = str(Path(sys.executable).parent / "dagster")


@pytest.mark.slow
def test_runs_status_and_rollback_follow_dagster_cli_runs(project, emulator):
    for day in ("2026-10-03", "2026-10-03"):  # a load, then a reload of the same partition
        done = subprocess.run(
            [DAGSTER, "asset", "materialize", "-m", "stripe_assets.definitions",
             "--select", "key:stripe/charges", "--partition", day],
            env={**os.environ, **project.env}, cwd=project.root, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    def rows() -> list[tuple]:  # every column but the ones a load stamps
        return project.query("SELECT * EXCLUDE (_run_id, _loaded_at) FROM stripe.charges ORDER BY id")

    first = rows()

    runs = project.cli_json("runs", "stripe_charges")["runs"]

    assert [(r["status"], r["partitions"]) for r in runs] == [("SUCCESS", ["2026-10-03"])] * 2
    expected = len(emulator.listable_ids("charges", *day_window("2026-10-03")))
    assert [r["records_loaded"] for r in runs] == [expected, expected]

    rolled = project.cli("rollback", "charges", "--run", runs[0]["run_id"], "--yes")
    assert rolled.returncode == 0, rolled.stderr
    # The reload wrote the same objects: undoing it gives back the first load's rows, run id included.
    assert project.query("SELECT DISTINCT _run_id FROM stripe.charges") == [(runs[1]["run_id"],)]
    assert rows() == first

    status = {s["dataflow"]: s for s in project.cli_json("status")["dataflows"]}["stripe_charges"]
    assert status["rows"] == expected and status["last_rollback_at"] is not None
