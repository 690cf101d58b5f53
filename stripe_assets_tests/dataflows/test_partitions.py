"""Partitions follow the frequency, start where backfill says, and tile time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from dagster._core.test_utils import freeze_time

from stripe_assets.dagster.partitions import partitions_def_for
from stripe_assets.dataflows.partitions import PartitionKeyError, partition_count, time_model

from .simulate import make_dataflow


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "fields,now,first_key,last_key,length",
    [
        # backfill on: from history_start's window; the open window is the last partition
        (
            dict(
                frequency="minute",
                interval=15,
                history_start="2026-03-01T10:07:00Z",
                start_time="2026-03-01T11:00:00Z",
            ),
            "2026-03-01T12:07",
            "2026-03-01-10:00",
            "2026-03-01-12:00",
            timedelta(minutes=15),
        ),
        (
            dict(frequency="hour", history_start="2026-03-01T10:07:00Z", start_time="2026-03-01T11:00:00Z"),
            "2026-03-02T00:00",
            "2026-03-01-10:00",
            "2026-03-02-00:00",
            timedelta(hours=1),
        ),
        (
            dict(frequency="day", history_start="2028-02-27T05:00:00Z", start_time="2028-03-01T00:10:00Z"),
            "2028-03-01T00:00",
            "2028-02-27",
            "2028-03-01",
            timedelta(days=1),
        ),
        # weekly windows start Monday 00:00 UTC: 2026-01-01 is a Thursday
        (
            dict(frequency="week", history_start="2026-01-01T00:00:00Z", start_time="2026-01-07T06:15:00Z"),
            "2026-02-01T23:59",
            "2025-12-29",
            "2026-01-26",
            timedelta(weeks=1),
        ),
        # backfill off: from start_time's window
        (
            dict(frequency="day", backfill=False, start_time="2026-05-31T22:00:00Z"),
            "2026-06-02T01:00",
            "2026-05-31",
            "2026-06-02",
            timedelta(days=1),
        ),
        (
            dict(frequency="minute", interval=45, backfill=False, start_time="2026-05-31T23:50:00Z"),
            "2026-06-01T00:20",
            "2026-05-31-23:45",
            "2026-06-01-00:15",
            timedelta(minutes=15),
        ),
        # once: daily windows from history_start
        (
            dict(frequency="once", history_start="2026-04-01T00:00:00Z", start_time="2026-04-03T00:00:00Z"),
            "2026-04-03T09:00",
            "2026-04-01",
            "2026-04-03",
            timedelta(days=1),
        ),
    ],
)
def test_windows_per_frequency(fields, now, first_key, last_key, length):
    flow = make_dataflow(**fields)
    partitions = partitions_def_for(flow)
    keys = partitions.get_partition_keys(current_time=at(now))
    assert (keys[0], keys[-1]) == (first_key, last_key)
    assert partition_count(flow, at(now)) == len(keys)

    windows = [partitions.time_window_for_partition_key(k) for k in keys]
    assert all(w.end - w.start == length for w in windows)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows)), "no gap, no overlap"
    assert windows[-1].start <= at(now) < windows[-1].end, "the still-open window is a partition"
    assert all(w.start.tzinfo is not None and w.start.utcoffset() == timedelta(0) for w in windows)


def test_each_moment_falls_in_exactly_one_weekly_partition():
    flow = make_dataflow(
        frequency="week", history_start="2026-01-01T00:00:00Z", start_time="2026-01-07T00:00:00Z"
    )
    partitions = partitions_def_for(flow)
    windows = [
        partitions.time_window_for_partition_key(k)
        for k in partitions.get_partition_keys(current_time=at("2026-03-31T00:00"))
    ]
    for moment in [
        at("2026-01-04T23:59"),
        at("2026-01-05T00:00"),
        at("2026-02-28T12:00"),
        at("2026-03-01T00:00"),
    ]:
        holding = [w for w in windows if w.start <= moment < w.end]
        assert len(holding) == 1 and holding[0].start.weekday() == 0


def test_partitions_depend_on_the_dataflow_not_on_when_the_code_location_loads():
    """A reload days later must give Dagster the same partitions, or history would shift."""
    flow = make_dataflow(frequency="hour", history_start="2026-03-01T10:07:00Z", start_time="2026-03-01T11:00:00Z")
    with freeze_time(at("2026-03-02T00:00")):
        early = partitions_def_for(flow)
    with freeze_time(at("2026-04-20T13:30")):
        late = partitions_def_for(flow)
    assert early == late
    assert early.get_first_partition_key() == late.get_first_partition_key() == "2026-03-01-10:00"
    # and the definition does follow the dataflow
    later_start = make_dataflow(
        frequency="hour", history_start="2026-03-01T12:00:00Z", start_time="2026-03-01T12:00:00Z"
    )
    assert partitions_def_for(later_start) != early


@pytest.mark.parametrize(
    ("frequency", "key", "problem"),
    [
        ("minute", "2026-10-05-10:07", "does not start a window"),
        ("hour", "2026-10-05-10:30", "does not start a window"),
        ("day", "2026-10-05-00:00", "is not a partition key"),
        ("week", "2026-10-06", "does not start a window"),  # a Tuesday
        ("day", "yesterday", "is not a partition key"),
    ],
)
def test_the_time_model_reads_its_own_keys_and_agrees_with_dagster(frequency, key, problem):
    flow = make_dataflow(frequency=frequency, history_start="2026-10-01T00:00:00Z", start_time="2026-10-01T00:10:00Z")
    time, partitions = time_model(flow), partitions_def_for(flow)
    with freeze_time(at("2026-10-09T12:00")):
        keys = partitions.get_partition_keys()
    assert keys[0] == time.key(time.first) and len(keys) == time.count(at("2026-10-09T12:00"))
    for k in keys:
        window = partitions.time_window_for_partition_key(k)
        assert time.window(k) == (window.start, window.end)
        assert time.key(time.window_start(window.start + time.length / 2)) == k
    with pytest.raises(PartitionKeyError) as caught:
        time.window(key)
    assert caught.value.problem == problem
