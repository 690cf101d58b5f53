"""Freshness: the real daemon rates each asset PASS / WARN / FAIL from its newest load."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.test_utils import freeze_time

from stripe_assets.dataflows.config import Dataflow
from stripe_assets.dataflows.freshness import FreshnessWindows, freshness_windows
from stripe_assets.definitions import defs as load_defs
from stripe_assets_tests.daemon import DAEMON_DEADLINE_SECONDS, dagster_daemon

REPO = Path(__file__).resolve().parents[2]
CHARGES = dg.AssetKey(["stripe", "charges"])
PRICES = dg.AssetKey(["stripe", "prices"])
WAIT_SECONDS = DAEMON_DEADLINE_SECONDS  # polled: returns as soon as the daemon has done it


@pytest.mark.parametrize(
    ("fields", "warn", "fail"),
    [
        ({"frequency": "day", "interval": 1}, timedelta(days=1, hours=6), timedelta(days=2, hours=6)),
        ({"frequency": "day", "interval": 3}, timedelta(days=3, hours=6), timedelta(days=6, hours=6)),
        ({"frequency": "hour", "interval": 2}, timedelta(hours=2, minutes=30), timedelta(hours=4, minutes=30)),
        ({"frequency": "minute", "interval": 15}, timedelta(minutes=30), timedelta(minutes=45)),
        ({"frequency": "week", "interval": 1}, timedelta(weeks=1, hours=6), timedelta(weeks=2, hours=6)),
    ],
)
def test_the_windows_follow_the_schedule(fields, warn, fail):
    flow = Dataflow(name="f", resource="charges", start_time="2026-10-01T00:00:00Z",
                    history_start="2026-10-01T00:00:00Z", **fields)
    assert freshness_windows(flow) == FreshnessWindows(warn_after=warn, fail_after=fail)


@pytest.mark.parametrize("fields", [{"frequency": "once"}, {"frequency": "day", "enabled": False}])
def test_dataflows_not_expected_to_load_again_have_no_policy(fields, tmp_path, monkeypatch):
    flow = Dataflow(name="f", resource="charges", start_time="2026-10-01T00:00:00Z",
                    history_start="2026-10-01T00:00:00Z", **fields)
    assert freshness_windows(flow) is None


def test_the_assets_carry_the_policy_and_no_freshness_op_or_sensor(project):
    definitions = load_defs()
    graph = definitions.resolve_asset_graph()
    policy = graph.get(CHARGES).freshness_policy
    assert (policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta()) == (
        timedelta(days=1, hours=6), timedelta(days=2, hours=6)
    )
    # Nothing a load's run would plan and skip, or show as an execution failure.
    assert {key.name for key in graph.asset_check_keys} == {"schema_validation"}
    assert sorted(s.name for s in definitions.sensors) == ["stripe_dead_runs", "stripe_run_alerts"]


@pytest.mark.slow
def test_the_daemon_rates_freshness_from_real_loads(project, emulator, make_emulator, tmp_path):
    """Loads that stopped two days ago FAIL, a day ago WARN, on time PASS, and a failed load
    after an on-time one leaves the asset fresh. Earlier loads run at a frozen clock: real runs
    whose events are dated in the past."""
    shutil.copy(REPO / "dagster.yaml", project.dagster_home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    location = {
        "module_name": "stripe_assets.definitions", "working_directory": str(REPO), "location_name": "stripe_assets"
    }
    workspace.write_text(yaml.safe_dump({"load_from": [{"python_module": location}]}))
    log_path = tmp_path / "daemon.log"
    env = {**os.environ, **project.env, "FRESHNESS_DAEMON_INTERVAL_SECONDS": "1"}
    now = datetime.now(UTC)
    with (
        project.instance() as instance,
        dagster_daemon(workspace, cwd=tmp_path, env=env, log_path=log_path) as daemon,
    ):
        def state() -> FreshnessState:
            record = instance.get_freshness_state_records([CHARGES]).get(CHARGES)
            return record.freshness_state if record else FreshnessState.UNKNOWN

        def wait_for(expected: FreshnessState, event: str) -> None:
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline and daemon.poll() is None and state() != expected:
                time.sleep(0.5)
            assert state() == expected, f"after {event}: {state()}\n{log_path.read_text()[-3000:]}"

        def state_a_few_iterations_later() -> FreshnessState:
            since = time.time()
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline and daemon.poll() is None:
                beat = instance.get_daemon_heartbeats().get("FRESHNESS_DAEMON")
                if beat is not None and beat.timestamp > since + 5:  # iterations run every second
                    return state()
                time.sleep(0.5)
            raise AssertionError(log_path.read_text()[-3000:])

        with freeze_time(now - timedelta(days=2, hours=7)):
            assert project.load(emulator, "charges", "2026-10-02").success
        wait_for(FreshnessState.FAIL, "a load 55 hours ago")

        with freeze_time(now - timedelta(days=1, hours=7)):
            assert project.load(emulator, "charges", "2026-10-03").success
        wait_for(FreshnessState.WARN, "a load 31 hours ago")

        assert project.load(emulator, "charges", "2026-10-04").success
        wait_for(FreshnessState.PASS, "a load now")

        failed = project.load(make_emulator(invalid_fraction=0.5), "charges", "2026-10-05")
        assert not failed.success
        assert state_a_few_iterations_later() == FreshnessState.PASS
        planned = instance.get_records_for_run(
            failed.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
        ).records
        planned_checks = {r.event_log_entry.dagster_event.event_specific_data.check_name for r in planned}
        assert planned_checks == {"schema_validation"}
        # Prices never loaded: nothing to rate yet.
        prices = instance.get_freshness_state_records([PRICES]).get(PRICES)
        assert prices is None or prices.freshness_state == FreshnessState.UNKNOWN
    assert "evaluating for the first time" not in log_path.read_text()
