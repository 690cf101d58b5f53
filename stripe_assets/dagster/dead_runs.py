"""The sensor that marks runs whose process died (SIGKILL, OOM, a lost machine) as failed."""

from __future__ import annotations

import dagster as dg

from stripe_assets.operations.run_workers import fail_dead_runs

SENSOR_NAME = "stripe_dead_runs"


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks STARTED runs whose run process is gone (killed) as failed, so they alert "
    "and no longer look in flight.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_runs(context.instance)
    return dg.SkipReason(f"marked failed: {', '.join(failed)}" if failed else "no dead runs")
