"""The time model of a dataflow: its frequency gives fixed-length UTC windows that tile time, and
their keys. Schedules, operations and the assets all ask this model; nothing else computes windows
or parses keys (`stripe_assets.dagster.partitions` hands the windows to Dagster as partitions).

minute → 15-minute windows, hour → hourly, day → daily, week → weekly starting Monday 00:00 UTC,
once → daily. Every object's `created` falls in exactly one window. The first window is the one
holding `history_start` (backfill on, or once) or `start_time` (backfill off); the still-open
current window is a partition too (`end_offset=1`), so a run can refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stripe_assets.dataflows.models import Dataflow


@dataclass(frozen=True)
class _Windows:
    length: timedelta
    cron: str  # when a window starts, as Dagster's partitions definition reads it
    key_format: str
    words: str


WINDOWS: dict[str, _Windows] = {
    "minute": _Windows(timedelta(minutes=15), "*/15 * * * *", "%Y-%m-%d-%H:%M", "15-minute"),
    "hour": _Windows(timedelta(hours=1), "0 * * * *", "%Y-%m-%d-%H:%M", "hourly"),
    "day": _Windows(timedelta(days=1), "0 0 * * *", "%Y-%m-%d", "daily"),
    "week": _Windows(timedelta(weeks=1), "0 0 * * 1", "%Y-%m-%d", "weekly (Monday 00:00 UTC)"),
    "once": _Windows(timedelta(days=1), "0 0 * * *", "%Y-%m-%d", "daily"),
}
# A Monday midnight UTC: every window length divides a week, so flooring against it aligns
# 15-minute, hourly and daily windows to the clock and weekly windows to Mondays.
_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)

# Above this many partitions the Dagster UI gets slow.
PARTITION_WARNING_COUNT = 25_000


class PartitionKeyError(ValueError):
    """A partition key that names no window: `problem` says how, `shape` what keys look like."""

    def __init__(self, key: str, problem: str, shape: str):
        super().__init__(f"partition {key!r} {problem} ({shape})")
        self.problem = problem
        self.shape = shape


@dataclass(frozen=True)
class TimeModel:
    """One dataflow's windows: where they start and their keys."""

    frequency: str
    first: datetime  # start of the first window

    @classmethod
    def of(cls, dataflow: Dataflow) -> TimeModel:
        """Backfill on (or once): from the window of history_start; off: of start_time."""
        anchor = dataflow.history_start if dataflow.loads_history else dataflow.start_time
        return cls(dataflow.frequency, window_start(dataflow.frequency, anchor))

    @property
    def length(self) -> timedelta:
        return WINDOWS[self.frequency].length

    @property
    def words(self) -> str:
        return WINDOWS[self.frequency].words

    def window_start(self, moment: datetime) -> datetime:
        """Start of the window that holds `moment`."""
        return window_start(self.frequency, moment)

    def key(self, start: datetime) -> str:
        """The partition key of the window starting at `start`."""
        return start.astimezone(UTC).strftime(WINDOWS[self.frequency].key_format)

    def window(self, key: str) -> tuple[datetime, datetime]:
        """[start, end) of the window a key names; PartitionKeyError says what keys look like."""
        windows = WINDOWS[self.frequency]
        example = self.key(datetime(2026, 10, 5, tzinfo=UTC))  # a Monday: starts a window of any length
        shape = f"{windows.words} windows, keys like {example}"
        try:
            start = datetime.strptime(key, windows.key_format).replace(tzinfo=UTC)
        except ValueError:
            raise PartitionKeyError(key, "is not a partition key", shape) from None
        if self.window_start(start) != start:
            raise PartitionKeyError(key, "does not start a window", shape)
        return start, start + windows.length

    def count(self, now: datetime) -> int:
        """Windows that exist at `now`: the first through the open one (0 before the first)."""
        return max(0, (self.window_start(now) - self.first) // self.length + 1)


def window_start(frequency: str, moment: datetime) -> datetime:
    """Start of the window of `frequency` that holds `moment`."""
    return moment - (moment - _ANCHOR) % WINDOWS[frequency].length


def time_model(dataflow: Dataflow) -> TimeModel:
    return TimeModel.of(dataflow)


def partition_count(dataflow: Dataflow, now: datetime) -> int:
    return time_model(dataflow).count(now)


def window_of(dataflow: Dataflow, created: int) -> tuple[str, datetime, datetime] | None:
    """The partition (key, start, end) holding the Unix time `created`; None before the first."""
    model = time_model(dataflow)
    start = model.window_start(datetime.fromtimestamp(created, UTC))
    if start < model.first:
        return None
    return model.key(start), start, start + model.length
