"""Dataflow schedules evaluated tick by tick on a real Dagster instance."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from stripe_assets.dagster.partitions import partitions_def_for
from stripe_assets.dagster.schedules import build_schedule, last_watermark
from stripe_assets.dataflows.partitions import window_start
from stripe_assets.dataflows.schedules import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    SCHEDULE_NAME_TAG,
    WATERMARK_TAG,
    describe_schedule,
)

from .simulate import Timeline, cron_ticks, every, make_dataflow, tiles


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as inst:
        yield inst


UNIT = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}

GRID_CASES = [
    # (frequency, interval, start_time, span evaluated from 1 unit-interval before the start)
    ("minute", 45, "2028-02-28T23:07:00", timedelta(hours=26)),  # across Feb 29 2028
    ("minute", 15, "2026-01-31T23:52:00", timedelta(hours=6)),  # across a month end
    ("minute", 17, "2026-06-30T23:50:00", timedelta(hours=2)),  # no cron step fits: every minute
    ("minute", 90, "2026-03-31T22:40:00", timedelta(hours=12)),
    ("hour", 1, "2026-12-31T20:05:00", timedelta(days=1)),  # across a year end
    ("hour", 5, "2026-12-31T22:30:00", timedelta(days=4)),
    ("day", 1, "2028-02-27T00:10:00", timedelta(days=5)),
    ("day", 3, "2028-02-20T02:00:00", timedelta(days=40)),  # Feb 29 2028 is on the grid
    ("week", 1, "2026-03-01T23:59:00", timedelta(weeks=6)),  # a Sunday
    ("week", 2, "2026-01-07T06:15:00", timedelta(weeks=16)),  # a Wednesday
]


@pytest.mark.parametrize("frequency,interval,start,span", GRID_CASES)
def test_ticks_land_exactly_on_the_interval_grid(instance, frequency, interval, start, span):
    flow = make_dataflow(
        frequency=frequency, interval=interval, start_time=start + "Z", history_start=start + "Z"
    )
    timeline = Timeline(flow, instance)
    step = interval * UNIT[frequency]
    begin, end = flow.start_time - step, flow.start_time + span
    grid = set(every(step, flow.start_time, end))

    evaluated = cron_ticks(timeline.schedule, begin, end)
    assert grid <= set(evaluated), "the cron reaches every grid tick"
    launched = {t for t in evaluated if timeline.tick(t) is not None}

    assert launched == grid
    off_grid = set(evaluated) - grid
    assert all(timeline.skips[t] for t in off_grid), "every skip says why"


def test_skip_reason_names_the_next_run(instance):
    flow = make_dataflow(
        frequency="day", interval=3, start_time="2026-01-01T02:00:00Z", history_start="2025-01-01T00:00:00Z"
    )
    timeline = Timeline(flow, instance)
    assert timeline.evaluate(at("2025-12-31T02:00")) == f"{flow.name} starts at 2026-01-01 02:00 UTC"
    assert timeline.evaluate(at("2026-01-02T02:00")) == (
        "2026-01-02 02:00 UTC is between runs (every 3 days from 2026-01-01 02:00 UTC); "
        "next run at 2026-01-04 02:00 UTC"
    )


TILING_CASES = [
    # daily, backfill on; daemon down for 3 days; the Feb 28 and Feb 29 2028 runs fail
    dict(
        flow=dict(
            frequency="day",
            interval=1,
            start_time="2028-02-10T00:10:00Z",
            history_start="2028-02-01T00:00:00Z",
        ),
        end="2028-03-05T00:00",
        down=[("2028-02-20T00:00", "2028-02-23T00:00")],
        failing=["2028-02-28T00:10", "2028-02-29T00:10"],
    ),
    # every 45 minutes, backfill off, over Feb 29 2028 into March; down 2 hours; one failed run
    dict(
        flow=dict(frequency="minute", interval=45, start_time="2028-02-28T22:07:00Z", backfill=False),
        end="2028-03-01T03:00",
        down=[("2028-02-29T10:00", "2028-02-29T12:00")],
        failing=["2028-02-29T22:07"],
    ),
    # every 2 weeks from a Wednesday, backfill from a Thursday (floored to its Monday)
    dict(
        flow=dict(
            frequency="week",
            interval=2,
            start_time="2026-01-07T06:15:00Z",
            history_start="2026-01-01T00:00:00Z",
        ),
        end="2026-05-20T00:00",
        down=[("2026-02-01T00:00", "2026-02-20T00:00")],
        failing=["2026-03-04T06:15"],
    ),
    # every 5 hours across a month end, backfill off
    dict(
        flow=dict(frequency="hour", interval=5, start_time="2026-01-31T21:30:00Z", backfill=False),
        end="2026-02-04T00:00",
        down=[],
        failing=["2026-02-01T02:30", "2026-02-01T07:30"],
    ),
]


@pytest.mark.parametrize("case", TILING_CASES, ids=["day-leap", "45min-off", "2weeks", "5hours-off"])
def test_successful_runs_tile_the_timeline_through_downtime_and_failures(instance, case):
    flow = make_dataflow(**case["flow"])
    end = at(case["end"])
    timeline = Timeline(flow, instance).run(
        flow.start_time - timedelta(days=1),
        end,
        down=[(at(a), at(b)) for a, b in case["down"]],
        failing=[at(t) for t in case["failing"]],
    )
    failed = [r.tick for r in timeline.runs if r.status == dg.DagsterRunStatus.FAILURE]
    assert failed == [at(t) for t in case["failing"]], "the failing ticks launched runs"
    for run in timeline.runs:
        # every run also refreshes exactly the window still open at its tick
        assert len(run.open) == 1 and run.open[0][0] <= run.tick < run.open[0][1]
        assert run.request.asset_selection == [dg.AssetKey(["stripe", "charges"])]

    first = window_start(flow.frequency, flow.history_start if flow.backfill else flow.start_time)
    last_success = max(r.tick for r in timeline.runs if r.status == dg.DagsterRunStatus.SUCCESS)
    assert tiles(timeline.loaded_closed_windows(), first, window_start(flow.frequency, last_success))
    if not flow.backfill:
        assert all(w[0] >= window_start(flow.frequency, flow.start_time) for r in timeline.runs for w in r.windows)


def test_failed_run_is_caught_up_by_the_next_tick(instance):
    flow = make_dataflow(frequency="day", start_time="2026-03-01T00:10:00Z", backfill=False)
    timeline = Timeline(flow, instance, share_instance=False)  # as the daemon does: instance from its ref
    timeline.tick(at("2026-03-01T00:10"))
    timeline.tick(at("2026-03-02T00:10"), dg.DagsterRunStatus.FAILURE)
    retry = timeline.tick(at("2026-03-03T00:10"))
    assert retry is not None
    assert (retry.request.tags[RANGE_START_TAG], retry.request.tags[RANGE_END_TAG]) == (
        "2026-03-01",
        "2026-03-03",
    )


def test_tick_waits_while_a_run_is_in_progress(instance):
    flow = make_dataflow(frequency="hour", start_time="2026-05-01T00:05:00Z", backfill=False)
    timeline = Timeline(flow, instance)
    first = timeline.evaluate(at("2026-05-01T00:05"))
    running = create_run_for_test(instance, job_name="__ASSET_JOB", tags=first.tags, status=dg.DagsterRunStatus.STARTED)

    assert timeline.evaluate(at("2026-05-01T01:05")) == (
        f"run {running.run_id} of {flow.name}_schedule is still queued or in progress; the next tick picks up from it"
    )
    instance.report_run_failed(running)
    after = timeline.evaluate(at("2026-05-01T02:05"))
    assert (after.tags[RANGE_START_TAG], after.tags[RANGE_END_TAG]) == (
        "2026-05-01-00:00",
        "2026-05-01-02:00",
    )


def test_backfill_on_first_tick_loads_the_whole_history(instance):
    flow = make_dataflow(frequency="day", start_time="2026-11-01T00:10:00Z", history_start="2025-01-01T00:00:00Z")
    first = Timeline(flow, instance).tick(at("2026-11-20T00:10"))
    assert (first.request.tags[RANGE_START_TAG], first.request.tags[RANGE_END_TAG]) == (
        "2025-01-01",
        "2026-11-20",
    )
    assert len(first.closed) == 688 and first.request.tags[WATERMARK_TAG] == "2026-11-20T00:00:00Z"


def test_backfill_off_never_requests_before_the_start_window(instance):
    flow = make_dataflow(frequency="minute", interval=30, start_time="2026-02-01T10:20:00Z", backfill=False)
    first = Timeline(flow, instance).tick(at("2026-02-01T10:20"))
    assert (first.request.tags[RANGE_START_TAG], first.request.tags[RANGE_END_TAG]) == (
        "2026-02-01-10:15",
        "2026-02-01-10:15",
    )
    assert first.closed == []
    assert partitions_def_for(flow).get_first_partition_window().start == at("2026-02-01T10:15")


def test_watermark_is_the_latest_among_recent_successful_runs(instance):
    name = "watermarked_schedule"
    for mark, status in [
        ("2026-01-03T00:00:00Z", dg.DagsterRunStatus.SUCCESS),
        ("2026-01-05T00:00:00Z", dg.DagsterRunStatus.FAILURE),
        ("2026-01-02T00:00:00Z", dg.DagsterRunStatus.SUCCESS),  # an older run re-executed last
    ]:
        create_run_for_test(instance, tags={SCHEDULE_NAME_TAG: name, WATERMARK_TAG: mark}, status=status)
    assert last_watermark(instance, name) == at("2026-01-03T00:00")
    assert last_watermark(instance, "other_schedule") is None


def test_once_runs_exactly_once_loading_everything(instance):
    flow = make_dataflow(frequency="once", start_time="2026-04-01T12:00:00Z", history_start="2026-03-01T00:00:00Z")
    timeline = Timeline(flow, instance).run(at("2026-04-01T11:50"), at("2026-04-01T12:30"))
    assert [r.tick for r in timeline.runs] == [at("2026-04-01T12:00")]
    only = timeline.runs[0].request
    assert (only.tags[RANGE_START_TAG], only.tags[RANGE_END_TAG]) == ("2026-03-01", "2026-04-01")
    assert timeline.skips[at("2026-04-01T11:59")] == f"{flow.name} runs once at 2026-04-01 12:00 UTC"
    assert timeline.skips[at("2026-04-01T12:01")].startswith(f"{flow.name} runs once and already ran (run ")


def test_once_turned_on_after_its_start_runs_at_the_next_evaluation_even_after_a_failure(instance):
    flow = make_dataflow(frequency="once", start_time="2026-04-01T12:00:00Z", history_start="2026-03-30T00:00:00Z")
    timeline = Timeline(flow, instance)
    late = timeline.tick(at("2026-04-03T08:31"), dg.DagsterRunStatus.FAILURE)
    assert late is not None and late.request.tags[RANGE_END_TAG] == "2026-04-03"
    assert timeline.tick(at("2026-04-03T08:32")) is None  # once means once; a failed run is re-executed by hand


def test_range_tags_load_exactly_the_requested_partitions(instance):
    """A run request's tags, executed by Dagster on a single-run asset with the dataflow's partitions."""
    flow = make_dataflow(
        frequency="week", interval=2, start_time="2026-01-07T06:15:00Z", history_start="2025-12-01T00:00:00Z"
    )
    seen: list[str] = []

    @dg.asset(
        key=["stripe", "charges"],
        partitions_def=partitions_def_for(flow),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def charges(context) -> None:
        seen.extend(context.partition_keys)

    request = Timeline(flow, instance).evaluate(at("2026-02-04T06:15"))
    result = dg.materialize([charges], instance=instance, tags=request.tags)
    assert result.success
    assert seen == [
        "2025-12-01",
        "2025-12-08",
        "2025-12-15",
        "2025-12-22",
        "2025-12-29",
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
        "2026-02-02",
    ]


def test_schedule_definition_shows_status_and_words():
    enabled = build_schedule(
        make_dataflow(
            name="stripe_prices",
            resource="prices",
            frequency="day",
            interval=3,
            start_time="2026-01-01T02:00:00Z",
            history_start="2025-01-01T00:00:00Z",
        )
    )
    assert enabled.name == "stripe_prices_schedule"
    assert enabled.default_status == dg.DefaultScheduleStatus.RUNNING
    assert enabled.execution_timezone == "UTC"
    assert enabled.description.startswith("Every 3 days from 2026-01-01 02:00 UTC; backfill on from 2025-01-01. ")

    disabled = build_schedule(
        make_dataflow(enabled=False, frequency="minute", interval=45, backfill=False, start_time="2026-01-01T00:05:00Z")
    )
    assert disabled.default_status == dg.DefaultScheduleStatus.STOPPED
    assert disabled.cron_schedule == "5,20,35,50 * * * *"
    assert disabled.description.startswith(
        "Every 45 minutes from 2026-01-01 00:05 UTC; backfill off (data from 2026-01-01 00:05 UTC on)"
    )


@pytest.mark.parametrize(
    "fields,words",
    [
        (
            dict(
                frequency="week",
                interval=2,
                start_time="2026-01-07T06:15:00Z",
                history_start="2025-06-01T12:00:00Z",
            ),
            "Every 2 weeks from 2026-01-07 06:15 UTC; backfill on from 2025-06-01 12:00 UTC",
        ),
        (
            dict(frequency="hour", start_time="2026-01-07T06:15:00Z"),
            "Every hour from 2026-01-07 06:15 UTC; backfill on from 2025-01-01",
        ),
        (
            dict(frequency="once", start_time="2026-01-07T06:15:00Z"),
            "Once at 2026-01-07 06:15 UTC (at once if turned on later); loads everything from 2025-01-01",
        ),
    ],
)
def test_schedule_in_words(fields, words):
    assert describe_schedule(make_dataflow(**fields)) == words


def test_a_long_catch_up_is_split_into_bounded_runs_launched_in_order(instance):
    flow = make_dataflow(frequency="day", start_time="2026-11-01T00:10:00Z", history_start="2025-01-01T00:00:00Z")
    timeline = Timeline(flow, instance, partitions_per_run=31)
    parts = timeline.tick_parts(at("2026-11-20T00:10"), [dg.DagsterRunStatus.SUCCESS] * 23)
    windows = [w for part in parts for w in part.windows]
    assert len(windows) == 689 and all(len(part.windows) <= 31 for part in parts)  # 688 closed + the open one
    assert windows == sorted(set(windows))  # in order, each window once, no gap
    assert all(b[0] == a[1] for a, b in itertools.pairwise(windows))
    assert [p.request.tags["stripe_assets/part"] for p in parts[:2]] == ["1/23", "2/23"]
    assert len({p.request.run_key for p in parts}) == 23
    assert parts[-1].open and not any(p.open for p in parts[:-1])
    # All succeeded: the next tick loads only what closed since.
    [after] = timeline.tick_parts(at("2026-11-21T00:10"), [dg.DagsterRunStatus.SUCCESS])
    assert (after.request.tags[RANGE_START_TAG], after.request.tags[RANGE_END_TAG]) == ("2026-11-20", "2026-11-21")


def test_after_a_failed_part_the_next_tick_resumes_at_that_part(instance):
    flow = make_dataflow(frequency="day", start_time="2026-03-01T00:10:00Z", history_start="2026-01-01T00:00:00Z")
    timeline = Timeline(flow, instance, partitions_per_run=20)
    ok, failed = dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE
    parts = timeline.tick_parts(at("2026-03-10T00:10"), [ok, failed, ok, ok])
    assert [p.request.tags[RANGE_START_TAG] for p in parts] == ["2026-01-01", "2026-01-21", "2026-02-10", "2026-03-02"]
    retry = timeline.tick_parts(at("2026-03-11T00:10"), [ok, ok, ok])
    # From the failed part on (later parts again too: never a gap), through the new open window.
    assert retry[0].request.tags[RANGE_START_TAG] == "2026-01-21"
    assert retry[-1].request.tags[RANGE_END_TAG] == "2026-03-11"
    [after] = timeline.tick_parts(at("2026-03-12T00:10"), [ok])
    assert after.request.tags[RANGE_START_TAG] == "2026-03-11"
