"""Partition windows of a dataflow: fixed-length UTC windows that tile time.

minute → 15-minute windows, hour → hourly, day → daily, week → weekly starting Monday 00:00 UTC,
once → daily. Every object's `created` falls in exactly one window. The first window is the one
holding `history_start` (backfill on, or once) or `start_time` (backfill off); the still-open
current window is a partition too (`end_offset=1`), so a run can refresh it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from stripe_assets.dataflows.models import Dataflow

WINDOW: dict[str, timedelta] = {
    "minute": timedelta(minutes=15),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "once": timedelta(days=1),
}
WINDOW_CRON: dict[str, str] = {
    "minute": "*/15 * * * *",
    "hour": "0 * * * *",
    "day": "0 0 * * *",
    "week": "0 0 * * 1",  # Mondays
    "once": "0 0 * * *",
}
KEY_FORMAT: dict[str, str] = {
    "minute": "%Y-%m-%d-%H:%M",
    "hour": "%Y-%m-%d-%H:%M",
    "day": "%Y-%m-%d",
    "week": "%Y-%m-%d",
    "once": "%Y-%m-%d",
}
WINDOW_WORDS: dict[str, str] = {
    "minute": "15-minute",
    "hour": "hourly",
    "day": "daily",
    "week": "weekly (Monday 00:00 UTC)",
    "once": "daily",
}
# A Monday midnight UTC: every window length divides a week, so flooring against it aligns
# 15-minute, hourly and daily windows to the clock and weekly windows to Mondays.
_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)

# Above this many partitions the Dagster UI gets slow.
PARTITION_WARNING_COUNT = 25_000


def window_start(frequency: str, moment: datetime) -> datetime:
    """Start of the window of `frequency` that holds `moment`."""
    return moment - (moment - _ANCHOR) % WINDOW[frequency]


def first_window_start(dataflow: Dataflow) -> datetime:
    """Backfill on (or once): the window of history_start; off: the window of start_time."""
    anchor = dataflow.history_start if dataflow.loads_history else dataflow.start_time
    return window_start(dataflow.frequency, anchor)


def partition_key(dataflow: Dataflow, start: datetime) -> str:
    return start.astimezone(UTC).strftime(KEY_FORMAT[dataflow.frequency])


def partition_count(dataflow: Dataflow, now: datetime) -> int:
    """Partitions that exist at `now`: first window through the open one (0 before the first)."""
    first = first_window_start(dataflow)
    current = window_start(dataflow.frequency, now)
    return max(0, (current - first) // WINDOW[dataflow.frequency] + 1)


def partitions_def_for(dataflow: Dataflow) -> dg.TimeWindowPartitionsDefinition:
    """The dataflow's partitions in Dagster: UTC windows from its first window to the open one."""
    frequency = dataflow.frequency
    return dg.TimeWindowPartitionsDefinition(
        start=first_window_start(dataflow),
        fmt=KEY_FORMAT[frequency],
        cron_schedule=WINDOW_CRON[frequency],
        timezone="UTC",
        end_offset=1,
    )
