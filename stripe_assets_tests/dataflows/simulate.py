"""Driving a dataflow's real Dagster schedule through simulated time on a real instance."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import dagster as dg
from dagster._core.test_utils import create_run_for_test
from dagster._utils.schedules import cron_string_iterator

from stripe_assets.dagster.partitions import partitions_def_for
from stripe_assets.dagster.schedules import build_schedule
from stripe_assets.dataflows.models import Dataflow
from stripe_assets.dataflows.schedules import RANGE_END_TAG, RANGE_START_TAG

_numbers = itertools.count(1)


def make_dataflow(**fields: Any) -> Dataflow:
    """A dataflow with a fresh name, so tests can share one instance without seeing each other's runs."""
    fields.setdefault("name", f"flow_{next(_numbers)}")
    fields.setdefault("resource", "charges")
    return Dataflow.model_validate(fields)


def cron_ticks(schedule: dg.ScheduleDefinition, start: datetime, end: datetime) -> list[datetime]:
    """Every time Dagster's cron iteration evaluates `schedule` in [start, end)."""
    ticks: list[datetime] = []
    assert isinstance(schedule.cron_schedule, str)
    for moment in cron_string_iterator(start.timestamp(), schedule.cron_schedule, "UTC"):
        if moment >= end:
            return ticks
        if moment >= start:
            ticks.append(moment)
    return ticks


@dataclass
class Requested:
    tick: datetime
    request: dg.RunRequest
    windows: list[tuple[datetime, datetime]]  # every window in the requested range, in order
    status: dg.DagsterRunStatus

    @property
    def closed(self) -> list[tuple[datetime, datetime]]:
        return [w for w in self.windows if w[1] <= self.tick]

    @property
    def open(self) -> list[tuple[datetime, datetime]]:
        return [w for w in self.windows if w[1] > self.tick]


@dataclass
class Timeline:
    dataflow: Dataflow
    instance: dg.DagsterInstance
    schedule: dg.ScheduleDefinition = field(init=False)
    # Dagster opens the instance afresh from its ref for every schedule context (~0.1 s of
    # storage schema checks per tick); sharing the open instance keeps hundreds of ticks fast.
    share_instance: bool = True
    # Long enough that each tick is one run, unless a test is about splitting long ranges.
    partitions_per_run: int = 10**6
    runs: list[Requested] = field(default_factory=list)
    skips: dict[datetime, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.schedule = build_schedule(self.dataflow, self.partitions_per_run)
        self.partitions = partitions_def_for(self.dataflow)

    def requests(self, moment: datetime) -> list[dg.RunRequest] | str:
        context = dg.build_schedule_context(instance=self.instance, scheduled_execution_time=moment)
        if self.share_instance:
            # The same instance, already open, instead of one reopened from its ref.
            cast(Any, context)._instance = self.instance
        result = self.schedule.evaluate_tick(context)
        if result.run_requests:
            return list(result.run_requests)
        return result.skip_message or ""

    def evaluate(self, moment: datetime) -> dg.RunRequest | str:
        outcome = self.requests(moment)
        if isinstance(outcome, str):
            return outcome
        assert len(outcome) == 1, "each tick launches one run"
        return outcome[0]

    def tick_parts(self, moment: datetime, statuses: Iterable[dg.DagsterRunStatus]) -> list[Requested]:
        """Evaluate one tick that may launch several runs; the k-th is recorded with the k-th status."""
        outcome = self.requests(moment)
        assert not isinstance(outcome, str), outcome
        recorded = []
        for request, status in zip(outcome, statuses, strict=True):
            create_run_for_test(self.instance, job_name="__ASSET_JOB", tags=request.tags, status=status)
            recorded.append(Requested(moment, request, self.windows(request, moment), status))
        self.runs.extend(recorded)
        return recorded

    def windows(self, request: dg.RunRequest, moment: datetime) -> list[tuple[datetime, datetime]]:
        keys = self.partitions.get_partition_keys(current_time=moment)
        first = keys.index(request.tags[RANGE_START_TAG])
        last = keys.index(request.tags[RANGE_END_TAG])
        spans = [self.partitions.time_window_for_partition_key(k) for k in keys[first : last + 1]]
        return [(w.start, w.end) for w in spans]

    def tick(
        self, moment: datetime, status: dg.DagsterRunStatus = dg.DagsterRunStatus.SUCCESS
    ) -> Requested | None:
        """Evaluate one tick; a requested run is recorded on the instance with `status`."""
        outcome = self.evaluate(moment)
        if isinstance(outcome, str):
            self.skips[moment] = outcome
            return None
        create_run_for_test(self.instance, job_name="__ASSET_JOB", tags=outcome.tags, status=status)
        requested = Requested(moment, outcome, self.windows(outcome, moment), status)
        self.runs.append(requested)
        return requested

    def run(
        self,
        start: datetime,
        end: datetime,
        *,
        down: Iterable[tuple[datetime, datetime]] = (),
        failing: Iterable[datetime] = (),
    ) -> Timeline:
        """Every cron tick in [start, end) except during `down` spans; runs at `failing` fail."""
        down = list(down)
        failing = set(failing)
        for moment in cron_ticks(self.schedule, start, end):
            if any(a <= moment < b for a, b in down):
                continue
            status = dg.DagsterRunStatus.FAILURE if moment in failing else dg.DagsterRunStatus.SUCCESS
            self.tick(moment, status)
        return self

    def loaded_closed_windows(self) -> list[tuple[datetime, datetime]]:
        """Closed windows of the successful runs, in request order (duplicates kept)."""
        return [w for r in self.runs if r.status == dg.DagsterRunStatus.SUCCESS for w in r.closed]


def tiles(windows: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """Whether `windows`, in order, cover [start, end) exactly: no gap, no overlap."""
    cursor = start
    for a, b in windows:
        if a != cursor:
            return False
        cursor = b
    return cursor == end


def every(step: timedelta, start: datetime, end: datetime) -> list[datetime]:
    out = []
    moment = start
    while moment < end:
        out.append(moment)
        moment += step
    return out
