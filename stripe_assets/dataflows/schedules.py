"""When a dataflow runs and what each run loads (pure logic; Dagster wiring in `defs/dataflows`).

Ticks fall at `start_time + k × interval × unit`. The cron Dagster evaluates ticks at the unit's
granularity (or a divisor of the interval that divides the hour or the day), aligned to
`start_time`; ticks off the interval grid are skipped, so intervals no cron can state (every 45
minutes, every 3 days, every 2 weeks) still land exactly.

Each tick loads one partition range: from the window of the watermark left by the last
successful scheduled run (or the first window) through the window that is still open at the
tick. Its watermark is the end of the last closed window it loads, so missed ticks, daemon
downtime and failed runs widen the next range instead of leaving gaps, and closed windows are
never requested twice.

A range longer than `partitions_per_run` (a first backfill over years, a long catch-up) is
split into parts of that many partitions, launched in order as runs of their own: one failure
does not redo the whole history, and each part shows its own progress. The next tick resumes
after the last part of the contiguous successful prefix (`resume_point`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stripe_assets.dataflows.models import Dataflow
from stripe_assets.dataflows.partitions import TimeModel, time_model
from stripe_assets.dataflows.values import iso_utc

SCHEDULE_NAME_TAG = "dagster/schedule_name"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# End of the last closed window a scheduled run loads: where the next run starts.
WATERMARK_TAG = "stripe_assets/watermark"
DATAFLOW_TAG = "stripe_assets/dataflow"
# On each dataflow's asset, whatever a translator made of it: the resource it loads, by which the
# operations find the key its runs are recorded under.
RESOURCE_TAG = "stripe_assets/resource"
TICK_TAG = "stripe_assets/tick"
# `k/n`: the k-th of the n runs one tick's range was split into.
PART_TAG = "stripe_assets/part"
# Set on parts only, so the instance runs them one at a time, in order (dagster.yaml).
CATCH_UP_TAG = "stripe_assets/catch_up"

TICK_UNIT: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_UNIT_WORDS = {"minute": "minute", "hour": "hour", "day": "day", "week": "week"}


def schedule_name(dataflow: Dataflow) -> str:
    return f"{dataflow.name}_schedule"


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def when(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _day_or_time(moment: datetime) -> str:
    moment = utc(moment)
    return moment.strftime("%Y-%m-%d") if moment.hour == moment.minute == 0 else when(moment)


def tick_step(dataflow: Dataflow) -> timedelta | None:
    """Time between ticks (None for once)."""
    if dataflow.frequency == "once" or dataflow.interval is None:
        return None
    return dataflow.interval * TICK_UNIT[dataflow.frequency]


def _values(period: int, step: int, offset: int) -> str:
    """A cron field: every `step` within `period`, at `offset` modulo `step`."""
    if step == 1:
        return "*"
    return ",".join(str(v) for v in range(offset % step, period, step))


def cron_for(dataflow: Dataflow) -> str:
    """The cron Dagster evaluates: every candidate tick, aligned to start_time (UTC)."""
    start = dataflow.start_time
    interval = dataflow.interval or 1
    if dataflow.frequency == "once":
        return "* * * * *"  # at start_time, or within a minute once turned on after it
    if dataflow.frequency == "minute":
        return f"{_values(60, math.gcd(interval, 60), start.minute)} * * * *"
    if dataflow.frequency == "hour":
        return f"{start.minute} {_values(24, math.gcd(interval, 24), start.hour)} * * *"
    if dataflow.frequency == "day":
        return f"{start.minute} {start.hour} * * *"
    return f"{start.minute} {start.hour} * * {(start.weekday() + 1) % 7}"  # cron: 0 = Sunday


def is_tick(dataflow: Dataflow, moment: datetime) -> bool:
    """Whether `moment` is `start_time + k × interval` for some k ≥ 0."""
    moment = utc(moment)
    step = tick_step(dataflow)
    if step is None:
        return moment == dataflow.start_time
    return moment >= dataflow.start_time and (moment - dataflow.start_time) % step == timedelta(0)


def next_tick(dataflow: Dataflow, after: datetime) -> datetime | None:
    """The first tick strictly after `after` (None for a once dataflow past its start)."""
    after = utc(after)
    step = tick_step(dataflow)
    if after < dataflow.start_time:
        return dataflow.start_time
    if step is None:
        return None
    return dataflow.start_time + ((after - dataflow.start_time) // step + 1) * step


def next_ticks(dataflow: Dataflow, after: datetime, count: int = 3) -> list[datetime]:
    ticks: list[datetime] = []
    moment: datetime | None = after
    while len(ticks) < count and moment is not None:
        moment = next_tick(dataflow, moment)
        if moment is not None:
            ticks.append(moment)
    return ticks


@dataclass(frozen=True)
class RunPlan:
    """One scheduled run: partitions [first, open] where `open` still holds the tick."""

    dataflow: Dataflow
    tick: datetime
    first: datetime  # start of the first window loaded
    open: datetime  # start of the window that is still open at the tick; the last part refreshes it
    last: datetime | None = None  # start of the last window this run loads (None: `open`)
    part: tuple[int, int] = (1, 1)  # (k, n): the k-th of n runs of this tick

    @property
    def last_window(self) -> datetime:
        return self.open if self.last is None else self.last

    @property
    def watermark(self) -> datetime:
        """End of the last closed window this run loads."""
        last = self.last_window
        return self.open if last >= self.open else last + self.time.length

    @property
    def time(self) -> TimeModel:
        return time_model(self.dataflow)

    @property
    def start_key(self) -> str:
        return self.time.key(self.first)

    @property
    def end_key(self) -> str:
        return self.time.key(self.last_window)

    @property
    def closed_windows(self) -> int:
        return (self.open - self.first) // self.time.length

    @property
    def partitions(self) -> int:
        return (self.last_window - self.first) // self.time.length + 1

    @property
    def run_key(self) -> str:
        key = f"{self.dataflow.name}:{iso_utc(self.tick)}"
        return key if self.part == (1, 1) else f"{key}:part{self.part[0]}"

    def tags(self) -> dict[str, str]:
        tags = {
            RANGE_START_TAG: self.start_key,
            RANGE_END_TAG: self.end_key,
            WATERMARK_TAG: iso_utc(self.watermark),
            DATAFLOW_TAG: self.dataflow.name,
            TICK_TAG: iso_utc(self.tick),
        }
        if self.part != (1, 1):
            tags[PART_TAG] = f"{self.part[0]}/{self.part[1]}"
            tags[CATCH_UP_TAG] = self.dataflow.name
        return tags


def split_plan(plan: RunPlan, partitions_per_run: int) -> list[RunPlan]:
    """The plan as runs of at most `partitions_per_run` partitions each, oldest first."""
    step = plan.time.length
    total = plan.partitions
    count = max(1, math.ceil(total / max(partitions_per_run, 1)))
    if count == 1:
        return [plan]
    parts = []
    for k in range(count):
        first = plan.first + k * partitions_per_run * step
        last = min(first + (partitions_per_run - 1) * step, plan.last_window)
        parts.append(dataclasses.replace(plan, first=first, last=last, part=(k + 1, count)))
    return parts


@dataclass(frozen=True)
class FinishedRun:
    """What `resume_point` needs of a finished run of a schedule."""

    tags: Mapping[str, str]
    succeeded: bool


def resume_point(runs: Sequence[FinishedRun]) -> datetime | None:
    """Where the next tick starts: after the contiguous successful parts of the newest tick
    that made progress (a tick of one run: its watermark once it succeeded).

    Ticks are told apart by their tick time, so a re-executed older run finishing last does
    not move the point back; parts after a failed one are loaded again by the next tick.
    """
    ticks: dict[str, dict[int, list[FinishedRun]]] = {}
    for run in runs:
        try:
            tick = run.tags.get(TICK_TAG) or run.tags[WATERMARK_TAG]
            utc(datetime.fromisoformat(run.tags[WATERMARK_TAG]))
            part = int(run.tags.get(PART_TAG, "1/1").split("/")[0])
        except (KeyError, ValueError):
            continue  # not launched by this schedule's logic (e.g. tags edited by hand)
        ticks.setdefault(tick, {}).setdefault(part, []).append(run)
    for tick in sorted(ticks, key=lambda t: utc(datetime.fromisoformat(t)), reverse=True):
        parts = ticks[tick]
        mark = None
        k = 1
        while k in parts and any(r.succeeded for r in parts[k]):
            done = next(r for r in parts[k] if r.succeeded)
            mark = utc(datetime.fromisoformat(done.tags[WATERMARK_TAG]))
            k += 1
        if mark is not None:
            return mark
    return None


def plan_tick(
    dataflow: Dataflow,
    moment: datetime,
    *,
    last_watermark: datetime | None,
    active_run: str | None = None,
) -> RunPlan | str:
    """The run a recurring dataflow's tick at `moment` launches, or why it launches none.

    `last_watermark`: the watermark of the newest successful run of this schedule (None if none);
    `active_run`: the id of a run of this schedule still queued or in progress.
    """
    moment = utc(moment)
    if dataflow.frequency == "once":
        raise ValueError(f"dataflow {dataflow.name!r} runs once; use plan_once")
    if moment < dataflow.start_time:
        return f"{dataflow.name} starts at {when(dataflow.start_time)}"
    if not is_tick(dataflow, moment):
        upcoming = next_tick(dataflow, moment)
        assert upcoming is not None  # recurring dataflows always have a next tick
        return f"{when(moment)} is between runs ({describe_interval(dataflow)}); next run at {when(upcoming)}"
    if active_run:
        return (
            f"run {active_run} of {schedule_name(dataflow)} is still queued or in progress; "
            "the next tick picks up from it"
        )
    time = time_model(dataflow)
    first = time.first
    if last_watermark is not None:
        first = max(first, time.window_start(utc(last_watermark)))
    open_window = time.window_start(moment)
    return RunPlan(dataflow, moment, min(first, open_window), open_window)


def plan_once(dataflow: Dataflow, moment: datetime, *, previous_run: str | None) -> RunPlan | str:
    """The single run of a once dataflow: everything from history_start, at or after start_time."""
    moment = utc(moment)
    if moment < dataflow.start_time:
        return f"{dataflow.name} runs once at {when(dataflow.start_time)}"
    if previous_run:
        return f"{dataflow.name} runs once and already ran (run {previous_run})"
    time = time_model(dataflow)
    open_window = time.window_start(moment)
    return RunPlan(dataflow, moment, min(time.first, open_window), open_window)


def describe_interval(dataflow: Dataflow) -> str:
    if dataflow.frequency == "once":
        return f"once at {when(dataflow.start_time)}"
    unit = _UNIT_WORDS[dataflow.frequency]
    every = unit if dataflow.interval == 1 else f"{dataflow.interval} {unit}s"
    return f"every {every} from {when(dataflow.start_time)}"


def describe_schedule(dataflow: Dataflow) -> str:
    """The schedule in words, e.g. `Every 3 days from 2026-01-01 02:00 UTC; backfill on from 2025-01-01`."""
    history = _day_or_time(dataflow.history_start)
    if dataflow.frequency == "once":
        return (
            f"Once at {when(dataflow.start_time)} (at once if turned on later); "
            f"loads everything from {history}"
        )
    text = describe_interval(dataflow)
    text = text[:1].upper() + text[1:]
    if dataflow.backfill:
        text += f"; backfill on from {history}"
    else:
        text += f"; backfill off (data from {when(dataflow.start_time)} on)"
    return text


def describe_runs(dataflow: Dataflow) -> str:
    """What each run loads, for the schedule's description in the UI."""
    windows = time_model(dataflow).words
    if dataflow.frequency == "once":
        return f"One run loads every {windows} partition through the current one."
    return (
        f"Each run loads the {windows} partitions closed since the last successful run of this "
        "schedule plus the still-open current one; a tick waits while a run is in progress."
    )
