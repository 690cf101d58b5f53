"""A freshness check per dataflow asset: it fails when the asset has not been materialized
within one schedule interval plus a grace period, i.e. when the dataflow stopped loading.

A sensor (running by default) evaluates the checks between loads; each load re-evaluates its
asset's check too, so a recovered dataflow turns green with its next successful run.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.config import Dataflow, load_dataflows
from stripe_assets.dataflows.schedules import tick_step

SENSOR_NAME = "stripe_freshness_checks"
MIN_GRACE = timedelta(minutes=15)
MAX_GRACE = timedelta(hours=6)


def asset_key(dataflow: Dataflow) -> dg.AssetKey:
    return dg.AssetKey(get_resource(dataflow.resource).asset_path)


def freshness_bound(dataflow: Dataflow) -> timedelta | None:
    """How old the newest materialization may get: one interval plus a quarter of it for a run's
    own duration and a late daemon (at least 15 minutes, at most 6 hours). None for dataflows
    that are not expected to load again (disabled, or `once`)."""
    step = tick_step(dataflow)
    if step is None or not dataflow.enabled:
        return None
    return step + min(max(step / 4, MIN_GRACE), MAX_GRACE)


def build_freshness_checks(dataflows: tuple[Dataflow, ...] | list[Dataflow]) -> list[dg.AssetChecksDefinition]:
    checks: list[dg.AssetChecksDefinition] = []
    with warnings.catch_warnings():
        # Dagster marks these factories superseded by FreshnessPolicy on the asset; the check
        # keeps a pass/fail history per asset in the UI and is evaluated on demand, which is
        # what "this dataflow stopped loading" needs.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        for dataflow in dataflows:
            bound = freshness_bound(dataflow)
            if bound is not None:
                checks += dg.build_last_update_freshness_checks(
                    assets=[asset_key(dataflow)], lower_bound_delta=bound
                )
    return checks


def build_freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name=SENSOR_NAME,
            minimum_interval_seconds=60,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )


@dg.definitions
def defs() -> dg.Definitions:
    checks = build_freshness_checks(load_dataflows().dataflows)
    if not checks:
        return dg.Definitions()
    return dg.Definitions(asset_checks=checks, sensors=[build_freshness_sensor(checks)])
