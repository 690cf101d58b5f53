"""The run alert sensor: start / success / failure alerts for every run of a dataflow's asset."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from stripe_assets.alerts.routes import AlertRoutes, load_routes
from stripe_assets.alerts.tick import DEFAULT_BATCH_SIZE, DEFAULT_BUDGET_SECONDS, run_alert_tick

SENSOR_NAME = "stripe_run_alerts"
# Alerts should land within a minute of the status change: tick often, each tick drains a batch.
MINIMUM_INTERVAL_SECONDS = 15


def build_alerts_sensor(
    routes_loader: Callable[[], AlertRoutes] = load_routes,
    *,
    name: str = SENSOR_NAME,
    minimum_interval_seconds: int = MINIMUM_INTERVAL_SECONDS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends each dataflow's run start / success / failure alerts to its channels "
            "(dataflows.yaml `alerts:`), for runs from schedules, the UI and the CLI alike."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        # Read every tick so edits to dataflows.yaml apply without reloading the code location.
        routes = routes_loader()
        outcome = run_alert_tick(
            context.instance,
            context.cursor,
            routes,
            logger=context.log,
            batch_size=batch_size,
            budget_seconds=budget_seconds,
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(outcome.summary()), cursor=outcome.cursor)

    return _sensor
