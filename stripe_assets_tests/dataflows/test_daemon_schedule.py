"""End to end: the real Dagster daemon ticks a minute-frequency dataflow that loads the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.daemon import (
    FIFTEEN_MINUTE_TICKS_DEADLINE_SECONDS,
    dagster_daemon,
    wait_for_finished_run,
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_the_daemon_runs_a_scheduled_load_of_a_minute_dataflow(tmp_path, monkeypatch):
    now = datetime.now(UTC)
    # The first tick (k = 0) at a whole minute far enough ahead for the daemon to be up by then
    # (a schedule turned on later does not catch up earlier ticks); backfill off, so only its
    # window loads.
    start_time = (now + timedelta(seconds=105)).replace(second=0, microsecond=0)
    window_start = start_time.replace(minute=start_time.minute - start_time.minute % 15)
    # Today and tomorrow: near midnight the first window is tomorrow's.
    emulator = start_emulator(EmulatorConfig(seed=3, start=now.date(), days=2, per_day=3000))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # dagster.yaml keeps the storage there
    dg.DagsterInstance.from_config(str(home)).dispose()
    (tmp_path / "dataflows.yaml").write_text(yaml.safe_dump({
        "channels": {"log": {"type": "log", "path": str(tmp_path / "alerts.jsonl")}},
        "dataflows": [{
            "name": "stripe_charges", "resource": "charges", "frequency": "minute", "interval": 15,
            "start_time": start_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "backfill": False,
        }],
    }))
    (tmp_path / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"python_module": {"module_name": "stripe_assets.definitions", "working_directory": str(tmp_path)}}
                ]
            }
        )
    )
    duckdb_path = tmp_path / "stripe.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STRIPE_ASSETS_DATAFLOWS": str(tmp_path / "dataflows.yaml"),
        "STRIPE_API_KEY": emulator.api_key,
        "STRIPE_API_BASE": emulator.url,
        "STRIPE_ASSETS_DUCKDB_PATH": str(duckdb_path),
    }
    log_path = tmp_path / "daemon.log"
    try:
        with dagster_daemon(tmp_path / "workspace.yaml", cwd=tmp_path, env=env, log_path=log_path) as daemon:
            run = _wait_for_scheduled_run(home, tmp_path, daemon)
    finally:
        emulator.stop()
    assert run is not None, log_path.read_text()[-4000:]
    assert run.status == dg.DagsterRunStatus.SUCCESS, log_path.read_text()[-4000:]
    assert run.tags["dagster/schedule_name"] == "stripe_charges_schedule"
    window_key = window_start.strftime("%Y-%m-%d-%H:%M")
    assert run.tags["dagster/asset_partition_range_start"] == window_key  # nothing before start_time
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        loaded = {r[0] for r in conn.execute("SELECT id FROM stripe.charges").fetchall()}
    end = datetime.strptime(run.tags["dagster/asset_partition_range_end"], "%Y-%m-%d-%H:%M").replace(tzinfo=UTC)
    expected = set(emulator.listable_ids("charges", window_start, end + timedelta(minutes=15)))
    assert loaded == expected and loaded


def _wait_for_scheduled_run(home: Path, cwd: Path, daemon: subprocess.Popen) -> dg.DagsterRun | None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        scheduled = dg.RunsFilter(tags={"dagster/schedule_name": "stripe_charges_schedule"})
        return wait_for_finished_run(instance, daemon, scheduled, FIFTEEN_MINUTE_TICKS_DEADLINE_SECONDS)
