"""The reconciliation: the warehouse's balance transactions against Stripe's own totals.

Per currency, over the time the loads cover (limited to the report type's data availability):
activity (Σ net, payouts apart) and payouts equal the balance summary report's. A currency that
differs is narrowed down to its days by halving the interval with further report runs (one
report per half, for that currency), within a budget of report runs. When the history is
complete — one unbroken span of loads, Stripe's starting balance zero at its start — Σ net per
currency, with the transactions created since the last loaded window (read from the list
endpoint: the hours no load covers yet), also equals `/v1/balance` available + pending. Partial history is
said in the description and metadata, never taken for a match with the balance.
The balance is the platform's own (the key's account, `GET /v1/account`): connected accounts'
transactions in the warehouse are left out, as Stripe's reports leave them out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stripe_assets.ingest.reconcile.ledger import (
    Totals,
    day,
    has_table,
    interval_totals,
    loaded_segments,
    net_totals,
    other_accounts_rows,
)
from stripe_assets.ingest.reconcile.reports import ReportsClient
from stripe_assets.ingest.reconcile.summary import BalanceSummary, major_units, parse_summary
from stripe_assets.ingest.warehouse import Warehouse

REPORT_TYPE = "balance.summary.1"
DAY = 86_400
MAX_REPORT_RUNS = 40


@dataclass
class Difference:
    currency: str
    what: str  # activity | payouts | balance
    expected: int
    found: int
    days: list[str] = field(default_factory=list)
    narrowed: bool = True  # False: the report budget ran out before single days

    def line(self) -> str:
        days = f" on {', '.join(self.days)}" if self.days else ""
        if not self.narrowed:
            days = f" between {self.days[0]} and {self.days[-1]} (report budget spent before single days)"
        label = {"activity": "activity (Σ net, payouts apart)", "payouts": "payouts", "balance": "available + pending"}
        return (
            f"{self.currency}: {label[self.what]} Stripe {major_units(self.expected, self.currency)}, "
            f"warehouse {major_units(self.found, self.currency)}{days}"
        )


@dataclass
class ReconcileReport:
    passed: bool
    description: str
    metadata: dict[str, Any]
    differences: list[Difference] = field(default_factory=list)
    complete_history: bool = False
    severity: str = "ERROR"  # WARN: nothing could be compared (not a difference)


class _Runs:
    """Report runs within a budget, each parsed."""

    def __init__(self, client: ReportsClient, budget: int):
        self.client, self.left, self.count = client, budget, 0

    def summary(self, start: int, end: int, currency: str | None = None) -> dict[str, BalanceSummary] | None:
        if self.left <= 0:
            return None
        self.left -= 1
        self.count += 1
        params: dict[str, Any] = {"interval_start": start, "interval_end": end}
        if currency:
            params["currency"] = currency
        return parse_summary(self.client.run_report(REPORT_TYPE, params))


def _figures(summary: BalanceSummary | None) -> Totals:
    return Totals(summary.activity, summary.payouts) if summary else Totals()


def _split(start: int, end: int) -> int | None:
    """A UTC midnight strictly inside (start, end), near its middle; None within one day."""
    first = (start // DAY + 1) * DAY
    last = ((end - 1) // DAY) * DAY
    if first > last or first >= end:
        return None
    boundaries = range(first, last + 1, DAY)
    return boundaries[len(boundaries) // 2]


def _differing_days(
    runs: _Runs, totals: Callable[[int, int], dict[str, Totals]], currency: str, what: str, start: int, end: int
) -> tuple[list[str], bool]:
    """The days of [start, end) on which the warehouse and Stripe differ, by halving."""
    mid = _split(start, end)
    if mid is None:
        return [day(start)], True
    days: list[str] = []
    narrowed = True
    for low, high in ((start, mid), (mid, end)):
        report = runs.summary(low, high, currency)
        if report is None:
            return [day(start), day(end - 1)], False
        expected = getattr(_figures(report.get(currency)), what)
        found = getattr(totals(low, high).get(currency, Totals()), what)
        if expected != found:
            found_days, done = _differing_days(runs, totals, currency, what, low, high)
            days += found_days
            narrowed = narrowed and done
    return days, narrowed


def reconcile(
    client: ReportsClient, warehouse: Warehouse, *, max_report_runs: int = MAX_REPORT_RUNS
) -> ReconcileReport:
    with warehouse.connect(read_only=True) as conn:
        if not has_table(conn):
            return ReconcileReport(
                False, "no balance transactions loaded yet: nothing to reconcile", {}, severity="WARN"
            )
        segments = loaded_segments(conn)
        platform = client.own_account()
        others = other_accounts_rows(conn, platform)

    def totals(start: int, end: int) -> dict[str, Totals]:
        with warehouse.connect(read_only=True) as conn:
            return interval_totals(conn, start, end, platform)

    available = client.report_type(REPORT_TYPE)
    compared = [
        (max(start, available.data_available_start), min(end, available.data_available_end))
        for start, end in segments
    ]
    compared = [(start, end) for start, end in compared if start < end]
    notes: list[str] = []
    if others:
        notes.append(
            f"the platform's own balance only: {others} balance transactions of connected accounts not compared"
        )
    if len(segments) > 1:
        gaps = [f"{day(a[1])}..{day(b[0] - 1)}" for a, b in itertools.pairwise(segments)]
        notes.append(f"partial history: no loads for {', '.join(gaps)}")
    outside = sum(e - s for s, e in segments) - sum(e - s for s, e in compared)
    if outside > 0:
        notes.append(
            f"{outside / DAY:.1f} loaded days lie outside the report's data availability "
            f"({day(available.data_available_start)}..{day(available.data_available_end - 1)}) and were not compared"
        )
    if not compared:
        return ReconcileReport(
            False,
            "nothing to compare: no loaded day lies inside the balance summary's data availability",
            {"notes": notes, "loaded": [[day(s), day(e - 1)] for s, e in segments]},
            severity="WARN",
        )
    runs = _Runs(client, max_report_runs)
    differences: list[Difference] = []
    starting: dict[str, int] = {}
    sums: dict[str, dict[str, int]] = {}
    for index, (start, end) in enumerate(compared):
        report = runs.summary(start, end)
        if report is None:  # more spans between gaps than report runs: say so, compare no further
            notes.append(f"report budget spent: {day(start)}..{day(compared[-1][1] - 1)} not compared")
            break
        if index == 0:
            starting = {c: s.starting_balance for c, s in report.items()}
        found = totals(start, end)
        for currency in sorted(set(report) | set(found)):
            expected_figures, found_figures = _figures(report.get(currency)), found.get(currency, Totals())
            row = sums.setdefault(currency, {})
            for what in ("activity", "payouts"):
                expected, got = getattr(expected_figures, what), getattr(found_figures, what)
                row[f"stripe_{what}"] = row.get(f"stripe_{what}", 0) + expected
                row[f"warehouse_{what}"] = row.get(f"warehouse_{what}", 0) + got
                if expected != got:
                    days, narrowed = _differing_days(runs, totals, currency, what, start, end)
                    differences.append(Difference(currency, what, expected, got, days, narrowed))
    span = f"{day(compared[0][0])}..{day(compared[-1][1] - 1)}"
    balance_time = None
    complete = len(segments) == 1 and compared[0][0] == segments[0][0] and all(v == 0 for v in starting.values())
    if complete:
        balance, balance_time = client.balance_at()
        # The hours after the last loaded window (today's partition, not closed yet) are read
        # from the list endpoint, so the balance can be compared between loads.
        newer, newer_count = client.net_created_since(segments[-1][1])
        if newer_count:
            notes.append(
                f"{newer_count} balance transactions created since {day(segments[-1][1])} (not loaded yet) "
                "were read from the API for the balance"
            )
        with warehouse.connect(read_only=True) as conn:
            nets = net_totals(conn, platform)
        for currency, net in newer.items():
            nets[currency] = nets.get(currency, 0) + net
        stripe_balance: dict[str, int] = {}
        for part in ("available", "pending"):
            for amount in balance.get(part) or ():
                currency = amount["currency"]
                stripe_balance[currency] = stripe_balance.get(currency, 0) + int(amount["amount"])
        for currency in sorted(set(stripe_balance) | set(nets)):
            expected, got = stripe_balance.get(currency, 0), nets.get(currency, 0)
            sums.setdefault(currency, {}).update(stripe_balance=expected, warehouse_net=got)
            if expected != got:
                differences.append(Difference(currency, "balance", expected, got))
    if not complete:
        why = (
            f"Stripe's starting balance on {day(compared[0][0])} is not zero"
            if any(starting.values())
            else "the loads have gaps"
            if len(segments) > 1
            else "the first loaded days lie before the report's data availability"
        )
        notes.append(f"partial history ({why}): Σ net not compared with /v1/balance")
    metadata: dict[str, Any] = {
        "interval": span,
        "currencies": {
            currency: {name: major_units(value, currency) for name, value in row.items()}
            for currency, row in sorted(sums.items())
        },
        "complete_history": complete,
        "account": platform or "the key's own",
        "report_runs": runs.count,
        "notes": notes,
        "differences": [
            {"currency": d.currency, "what": d.what, "expected": major_units(d.expected, d.currency),
             "found": major_units(d.found, d.currency), "days": d.days}
            for d in differences
        ],
    }
    if balance_time is not None:
        metadata["balance_at"] = balance_time
    if differences:
        description = "differs from Stripe: " + "; ".join(d.line() for d in differences)
    else:
        scope = "and /v1/balance" if complete else "(partial history: the balance was not compared)"
        description = f"matches Stripe's balance summary {span} {scope}".strip()
        if others:
            description += f" ({notes[0]})"
    if notes and differences:
        description += f" ({'; '.join(notes)})"
    return ReconcileReport(not differences, description, metadata, differences, complete)
