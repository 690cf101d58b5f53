"""One Dagster schedule per dataflow in `dataflows.yaml`, named `<dataflow name>_schedule`.

Each tick asks the instance for this schedule's runs: it waits while one is queued or in
progress, and resumes where the finished ones left off; a long range is launched as several
runs of bounded size, in order (see `stripe_assets.dataflows.schedules` for the rules).
Enabled dataflows start RUNNING (STOPPED under `make dev`, see `starts_running`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from stripe_assets.dagster.keys import asset_key
from stripe_assets.dataflows.api_settings import DEFAULT_PARTITIONS_PER_RUN
from stripe_assets.dataflows.config import Dataflow, DataflowsConfig, load_dataflows
from stripe_assets.dataflows.schedules import (
    SCHEDULE_NAME_TAG,
    FinishedRun,
    RunPlan,
    cron_for,
    describe_runs,
    describe_schedule,
    plan_once,
    plan_tick,
    resume_point,
    schedule_name,
    split_plan,
)

SCHEDULES_ENV = "STRIPE_ASSETS_SCHEDULES"
# A run counted as still going: the next tick waits for it instead of loading the same windows.
ACTIVE_STATUSES = list(NOT_FINISHED_STATUSES)
# Finished runs looked at for the resume point: the parts of the last few ticks.
WATERMARK_LOOKBACK = 200
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def last_watermark(instance: dg.DagsterInstance, name: str) -> datetime | None:
    """Where the next tick of schedule `name` starts (see `resume_point`), if anywhere yet."""
    runs = instance.get_runs(dg.RunsFilter(tags={SCHEDULE_NAME_TAG: name}, statuses=FINISHED), limit=WATERMARK_LOOKBACK)
    return resume_point([FinishedRun(run.tags, run.status == dg.DagsterRunStatus.SUCCESS) for run in runs])


def starts_running(dataflow: Dataflow) -> bool:
    """Enabled dataflows start RUNNING, unless $STRIPE_ASSETS_SCHEDULES is `stopped`: `make dev`
    sets it, as its emulator serves 30 days while a first tick with backfill would ask for every
    partition since history_start (hundreds), and it may be left running unattended."""
    return dataflow.enabled and os.environ.get(SCHEDULES_ENV, "").strip().lower() != "stopped"


def _run_id(instance: dg.DagsterInstance, name: str, statuses: list[dg.DagsterRunStatus] | None) -> str | None:
    """The newest run of schedule `name` (with one of `statuses`, if given)."""
    runs = instance.get_runs(dg.RunsFilter(tags={SCHEDULE_NAME_TAG: name}, statuses=statuses), limit=1)
    return runs[0].run_id if runs else None


def _request(key: dg.AssetKey, plan: RunPlan) -> dg.RunRequest:
    return dg.RunRequest(asset_selection=[key], tags=plan.tags(), run_key=plan.run_key)


def build_schedule(
    dataflow: Dataflow,
    partitions_per_run: int = DEFAULT_PARTITIONS_PER_RUN,
    reload: Callable[[], DataflowsConfig] = load_dataflows,
    key: dg.AssetKey | None = None,
    suffix: str = "",
) -> dg.ScheduleDefinition:
    """`reload` reads the dataflows afresh at each tick; `key` is the asset's (default `stripe/<resource>`);
    `suffix` ends the name (one of several Stripe components, see `stripe_assets.dagster.scope`)."""
    target = key or asset_key(dataflow.resource)
    name = schedule_name(dataflow) + suffix

    @dg.schedule(
        name=name,
        cron_schedule=cron_for(dataflow),
        execution_timezone="UTC",
        target=dg.AssetSelection.assets(target),
        default_status=dg.DefaultScheduleStatus.RUNNING
        if starts_running(dataflow)
        else dg.DefaultScheduleStatus.STOPPED,
        description=f"{describe_schedule(dataflow)}. {describe_runs(dataflow)}",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        # None only when evaluated outside a tick (e.g. a manual test in the UI): use the clock.
        moment = context.scheduled_execution_time or datetime.now(UTC)
        # Re-read (cached by mtime): `stripe-assets delete` disables a dataflow before the code
        # location reloads, and a schedule toggled on in the UI would otherwise keep loading.
        if any(d.name == dataflow.name and not d.enabled for d in reload().dataflows):
            return dg.SkipReason(f"dataflow {dataflow.name!r} is disabled in the dataflows file")
        if dataflow.frequency == "once":
            # Once means once, also after a failure (no retry loop every minute on bad data):
            # a failed run is re-executed from the UI.
            plan = plan_once(dataflow, moment, previous_run=_run_id(context.instance, name, None))
        else:
            plan = plan_tick(
                dataflow,
                moment,
                last_watermark=last_watermark(context.instance, name),
                active_run=_run_id(context.instance, name, ACTIVE_STATUSES),
            )
        if isinstance(plan, str):
            return dg.SkipReason(plan)
        # Submitted in order; their catch-up tag lets the instance run them one at a time.
        return [_request(target, part) for part in split_plan(plan, partitions_per_run)]

    return _schedule
