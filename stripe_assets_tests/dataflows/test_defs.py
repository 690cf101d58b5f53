"""The Dagster wiring: one schedule per dataflow in the configured file."""

from __future__ import annotations

import shlex
import subprocess
from datetime import UTC

import dagster as dg
import pytest

from stripe_assets.dagster import schedules as schedule_defs
from stripe_assets.dagster.factory import build_stripe_definitions
from stripe_assets.dataflows.config import DATAFLOWS_ENV, DataflowConfigError

from .simulate import make_dataflow

CONFIG = """
dataflows:
  - name: stripe_charges
    resource: charges
    frequency: minute
    interval: 45
    start_time: 2026-01-01T00:05:00Z
    backfill: false
  - name: stripe_prices
    resource: prices
    frequency: week
    interval: 2
    start_time: 2026-01-07T06:15:00Z
    enabled: false
  - name: initial_customers
    resource: customers
    frequency: once
    start_time: 2026-02-01T00:00:00Z
"""


def test_definitions_hold_one_schedule_per_configured_dataflow(tmp_path, monkeypatch):
    path = tmp_path / "dataflows.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv(DATAFLOWS_ENV, str(path))
    definitions = build_stripe_definitions()
    schedules = {s.name: s for s in definitions.schedules}

    assert set(schedules) == {
        "stripe_charges_schedule",
        "stripe_prices_schedule",
        "initial_customers_schedule",
    }
    assert schedules["stripe_charges_schedule"].default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedules["stripe_prices_schedule"].default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedules["stripe_prices_schedule"].cron_schedule == "15 6 * * 3"
    assert schedules["initial_customers_schedule"].cron_schedule == "* * * * *"

    # With the assets they target, as the code location loads them, the targets resolve.
    for name in schedules:
        assert definitions.resolve_schedule_def(name).name == name


def test_invalid_file_fails_loading_the_definitions(tmp_path, monkeypatch):
    path = tmp_path / "dataflows.yaml"
    path.write_text(CONFIG.replace("interval: 45", "interval: 5"))
    monkeypatch.setenv(DATAFLOWS_ENV, str(path))
    with pytest.raises(
        DataflowConfigError, match="field 'interval': 5 is below the minimum of 15 for frequency 'minute'"
    ):
        build_stripe_definitions()


def test_a_mapping_type_that_cannot_hold_its_field_fails_loading_the_assets(tmp_path, monkeypatch):
    path = tmp_path / "dataflows.yaml"
    mapping = "    mapping: {add: {n: {path: description, type: BIGINT}}}\n"
    path.write_text(CONFIG.replace("    backfill: false\n", "    backfill: false\n" + mapping))
    monkeypatch.setenv(DATAFLOWS_ENV, str(path))
    with pytest.raises(DataflowConfigError) as caught:
        build_stripe_definitions()
    assert str(caught.value) == (
        f"{path}: dataflow 'stripe_charges', field 'mapping': add: column 'n': type BIGINT cannot hold "
        "'description', a string in Stripe's schema (allowed: VARCHAR, JSON)"
    )


def test_a_dataflow_disabled_in_the_file_stops_loading_before_the_code_reloads(tmp_path, monkeypatch):
    """`stripe-assets delete` sets enabled: false; a running schedule built earlier skips at once."""
    from datetime import datetime

    flow = make_dataflow(frequency="day", start_time="2026-01-01T00:10:00Z", history_start="2026-01-01T00:00:00Z")
    schedule = schedule_defs.build_schedule(flow)
    path = tmp_path / "dataflows.yaml"
    monkeypatch.setenv(DATAFLOWS_ENV, str(path))
    tick_time = datetime(2026, 3, 1, 0, 10, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        path.write_text(f"dataflows:\n  - name: {flow.name}\n    resource: {flow.resource}\n")
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick_time)
        assert schedule.evaluate_tick(context).run_requests
        path.write_text(f"dataflows:\n  - name: {flow.name}\n    resource: {flow.resource}\n    enabled: false\n")
        result = schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=tick_time)
        )
    assert not result.run_requests and "disabled in the dataflows file" in result.skip_message


def test_make_dev_starts_every_schedule_stopped_so_it_can_be_left_running(monkeypatch):
    """`make dev` serves 30 days from its emulator; the shipped dataflows backfill from
    history_start, so a RUNNING schedule's first tick would launch hundreds of partitions."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    planned = subprocess.run(["make", "-n", "dev"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    [line] = [x for x in planned.stdout.splitlines() if " dev -w workspace.yaml" in x]
    env = dict(word.split("=", 1) for word in shlex.split(line.split("&&")[-1].split(";")[-1]) if "=" in word)
    assert env.get(schedule_defs.SCHEDULES_ENV) == "stopped"

    monkeypatch.setenv(DATAFLOWS_ENV, str(repo / "dataflows.yaml"))
    monkeypatch.setenv(schedule_defs.SCHEDULES_ENV, "stopped")
    schedules = build_stripe_definitions().schedules
    assert schedules and {s.default_status for s in schedules} == {dg.DefaultScheduleStatus.STOPPED}
    monkeypatch.delenv(schedule_defs.SCHEDULES_ENV)
    assert dg.DefaultScheduleStatus.RUNNING in {s.default_status for s in build_stripe_definitions().schedules or ()}
