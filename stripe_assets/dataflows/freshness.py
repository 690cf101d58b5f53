"""How old a dataflow's data may get: derived from its schedule.

Each tick loads every partition closed since the last successful tick, so the newest load is at
most one interval old while the dataflow runs. Freshness WARNs once the newest load is older
than one interval plus a grace period (a tick is late or failed) and FAILs past two intervals
plus the grace (the dataflow has stopped loading). The grace is a quarter of the interval, at
least 15 minutes (a run's own duration, a late daemon) and at most 6 hours. Dataflows that are
not expected to load again (disabled, or `once`) have no bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from stripe_assets.dataflows.models import Dataflow
from stripe_assets.dataflows.schedules import tick_step

MIN_GRACE = timedelta(minutes=15)
MAX_GRACE = timedelta(hours=6)


@dataclass(frozen=True)
class FreshnessWindows:
    warn_after: timedelta  # newest load older than this: WARN
    fail_after: timedelta  # newest load older than this: FAIL

    def describe(self) -> str:
        return f"warns after {_words(self.warn_after)} without a load, fails after {_words(self.fail_after)}"


def freshness_windows(dataflow: Dataflow) -> FreshnessWindows | None:
    step = tick_step(dataflow)
    if step is None or not dataflow.enabled:
        return None
    grace = min(max(step / 4, MIN_GRACE), MAX_GRACE)
    return FreshnessWindows(warn_after=step + grace, fail_after=2 * step + grace)


def _words(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or "0 min"
