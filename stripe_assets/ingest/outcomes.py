"""What a load reads and what it reports: a partition's time window, each partition's outcome,
and the run's report. Plain values shared by the loader, change capture, child lists and the
Dagster layer, so none of them imports the loader to name a window."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stripe_assets.ingest.client import FetchStats
from stripe_assets.ingest.validation.decision import Decision
from stripe_assets.ingest.validation.report import CheckReport
from stripe_assets.ingest.validation.validate import ValidationResult


@dataclass(frozen=True)
class Window:
    """A partition: its key and its half-open time window [start, end)."""

    key: str
    start: datetime
    end: datetime


@dataclass
class PartitionOutcome:
    window: Window
    result: ValidationResult  # once prepared: failures and drift intact, records trimmed
    decision: Decision
    records_total: int
    records_valid: int
    records_rejected: int
    details: CheckReport | None = None  # what `describe` made of the full result, before it was trimmed
    # The run that wrote this partition with a newer fetch while this one read it: this fetch was
    # set aside (not written), the partition is that run's.
    left_to: str | None = None

    @property
    def accepted(self) -> bool:
        return self.decision.accept

    @property
    def records_loaded(self) -> int:
        return self.records_valid if self.accepted else 0

    @property
    def error_rate(self) -> float:
        return self.decision.error_rate


@dataclass
class LoadReport:
    resource: str
    windows: Sequence[Window]
    outcomes: list[PartitionOutcome] = field(default_factory=list)  # in the order they landed
    stats: FetchStats = field(default_factory=FetchStats)
    outside_window: int = 0  # objects listed with a `created` outside the requested range (quarantined)
    refetched: int = 0  # windows fetched again because the API listed out of order
    staged_windows: int = 0  # windows too large for one batch, validated in parts
    spilled_windows: int = 0  # of those, windows whose parts went to Parquet files (over HELD_PART_BYTES)
    slices: int = 0  # created-slices the range was read as (after splits)
    prune_error: str | None = None  # pruning old versions failed (everything loaded did land)
    table_rows: int | None = None  # rows in the resource's table once the load ended (None: unknown)
    began: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0  # set when the load finished
    validate_seconds: float = 0.0
    write_seconds: float = 0.0
    left_to: dict[str, str] = field(default_factory=dict)  # partitions set aside -> the newer run
    accounts_failed: dict[str, str] = field(default_factory=dict)  # account not read -> why (its rows stay)

    @property
    def elapsed(self) -> float:
        return self.seconds or time.perf_counter() - self.began

    @property
    def failures(self) -> list[PartitionOutcome]:
        return [o for o in self.outcomes if not o.accepted]

    @property
    def records_fetched(self) -> int:
        return sum(o.records_total for o in self.outcomes)

    @property
    def records_loaded(self) -> int:
        return sum(o.records_loaded for o in self.outcomes)

    @property
    def records_rejected(self) -> int:
        return sum(o.records_rejected for o in self.outcomes)

    @property
    def error_rate_pct(self) -> float:
        return 100.0 * self.records_rejected / self.records_fetched if self.records_fetched else 0.0

    @property
    def failure_message(self) -> str | None:
        """The run's error when a partition was over its threshold: rate, threshold, reasons."""
        failures = sorted(self.failures, key=lambda o: o.window.start)
        return "; ".join(o.decision.message for o in failures) or None


def merge_reports(reports: Sequence[LoadReport]) -> LoadReport:
    """Several loads of one run (partitions apart from each other) as one report."""
    first = reports[0]
    merged = LoadReport(first.resource, [w for r in reports for w in r.windows], began=first.began)
    for r in reports:
        merged.outcomes += r.outcomes
        for name in (
            "outside_window",
            "refetched",
            "staged_windows",
            "spilled_windows",
            "slices",
            "validate_seconds",
            "write_seconds",
        ):
            setattr(merged, name, getattr(merged, name) + getattr(r, name))
        merged.prune_error = merged.prune_error or r.prune_error
        merged.left_to.update(r.left_to)
        merged.accounts_failed.update(r.accounts_failed)
        merged.table_rows = r.table_rows if r.table_rows is not None else merged.table_rows
        for name in ("requests", "rate_limited", "server_errors", "pages", "objects", "seconds", "throttle_seconds"):
            setattr(merged.stats, name, getattr(merged.stats, name) + getattr(r.stats, name))
        merged.stats.api_version = r.stats.api_version or merged.stats.api_version
    merged.stats.began = first.stats.began
    merged.seconds = sum(r.seconds for r in reports)
    return merged


OnPartition = Callable[[PartitionOutcome, LoadReport], None]
Describe = Callable[[PartitionOutcome], CheckReport]
