"""Billing periods of recurring prices (calendar months and years, like Stripe's billing)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """`timestamp` moved forward by `count` intervals; month ends clamp (Jan 31 + 1 month = Feb 28)."""
    if interval == "day":
        return timestamp + count * 86400
    if interval == "week":
        return timestamp + count * 7 * 86400
    moment = datetime.fromtimestamp(timestamp, UTC)
    months = count * (12 if interval == "year" else 1)
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return int(moment.replace(year=year, month=month0 + 1, day=day).timestamp())


def current_period(anchor: int, interval: str, count: int, at: int) -> tuple[int, int]:
    """The billing period [start, end) that contains `at`, periods starting at `anchor`.

    Periods are counted from the anchor, so a subscription anchored on the 31st bills on the
    last day of shorter months and on the 31st again afterwards.
    """
    k = 0
    end = add_interval(anchor, interval, count)
    while end <= at:
        k += 1
        end = add_interval(anchor, interval, (k + 1) * count)
    return add_interval(anchor, interval, k * count), end
