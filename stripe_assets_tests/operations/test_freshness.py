"""Freshness checks: a dataflow that stopped loading shows up as a failed check on its asset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from stripe_assets.dataflows.config import DATAFLOWS_ENV, Dataflow, load_dataflows
from stripe_assets.defs.operations import freshness

CHARGES = dg.AssetKey(["stripe", "charges"])


@pytest.mark.parametrize(
    ("fields", "bound"),
    [
        ({"frequency": "day", "interval": 1}, timedelta(days=1, hours=6)),
        ({"frequency": "day", "interval": 3}, timedelta(days=3, hours=6)),
        ({"frequency": "hour", "interval": 2}, timedelta(hours=2, minutes=30)),
        ({"frequency": "minute", "interval": 15}, timedelta(minutes=30)),
        ({"frequency": "week", "interval": 1}, timedelta(weeks=1, hours=6)),
        ({"frequency": "once"}, None),
        ({"frequency": "day", "enabled": False}, None),
    ],
)
def test_the_bound_is_one_interval_plus_grace(fields, bound):
    flow = Dataflow(name="f", resource="charges", start_time="2026-10-01T00:00:00Z",
                    history_start="2026-10-01T00:00:00Z", **fields)
    assert freshness.freshness_bound(flow) == bound


def evaluate(checks, instance, at: datetime) -> dg.AssetCheckEvaluation:
    with freeze_time(at):
        result = dg.materialize(
            checks, instance=instance, selection=dg.AssetSelection.checks_for_assets(CHARGES)
        )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_the_check_fails_once_the_last_load_is_older_than_the_bound(project, emulator):
    assert project.load(emulator, "charges", "2026-10-03").success
    loaded_at = datetime.now(UTC)
    checks = freshness.build_freshness_checks(load_dataflows(project.dataflows).dataflows)

    with project.instance() as instance:
        fresh = evaluate(checks, instance, loaded_at + timedelta(days=1))
        stale = evaluate(checks, instance, loaded_at + timedelta(days=1, hours=7))

    assert fresh.passed
    assert not stale.passed
    assert stale.description.startswith("Asset is overdue for an update. The last update was 1 day")


def test_the_code_location_has_a_check_per_enabled_dataflow_and_a_running_sensor(tmp_path, monkeypatch):
    path = tmp_path / "dataflows.yaml"
    path.write_text(
        "dataflows:\n"
        "  - {name: stripe_charges, resource: charges}\n"
        "  - {name: stripe_prices, resource: prices, enabled: false}\n"
        "  - {name: stripe_refunds, resource: refunds, frequency: once}\n"
    )
    monkeypatch.setenv(DATAFLOWS_ENV, str(path))

    defs = freshness.defs()

    checked = {key.asset_key for check in defs.asset_checks for key in check.check_keys}
    assert checked == {CHARGES}
    (sensor,) = defs.sensors
    assert sensor.name == freshness.SENSOR_NAME
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
