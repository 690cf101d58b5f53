"""One load, end to end, as plain Python: fetch → records → validation → warehouse.

A load covers one or more consecutive partition windows with a single paginated fetch; each
partition is then validated and accepted or rejected on its own, and everything lands in one
transaction. The Dagster asset is a thin wrapper around `load_partitions`.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from stripe_assets.client import FetchStats, StripeReader
from stripe_assets.columns import ColumnSpec
from stripe_assets.records import to_arrow
from stripe_assets.validation.decision import Decision, decide
from stripe_assets.validation.policy import ValidationSettings
from stripe_assets.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.validation.validate import ValidationResult, validate_records
from stripe_assets.warehouse import Warehouse, WindowWrite


@dataclass(frozen=True)
class Window:
    """A partition: its key and its half-open time window [start, end)."""

    key: str
    start: datetime
    end: datetime


@dataclass
class PartitionOutcome:
    window: Window
    result: ValidationResult
    decision: Decision

    @property
    def accepted(self) -> bool:
        return self.decision.accept

    @property
    def records_loaded(self) -> int:
        return len(self.result.valid) if self.accepted else 0

    @property
    def records_rejected(self) -> int:
        return len(self.result.invalid)


@dataclass
class LoadReport:
    resource: str
    windows: Sequence[Window]
    outcomes: list[PartitionOutcome]
    stats: FetchStats
    outside_window: int = 0  # objects the API returned outside the requested window (dropped)
    seconds: float = 0.0
    validate_seconds: float = 0.0
    write_seconds: float = 0.0
    failures: list[PartitionOutcome] = field(default_factory=list)

    @property
    def records_fetched(self) -> int:
        return sum(o.result.records_total for o in self.outcomes)

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
        if not self.failures:
            return None
        return "; ".join(o.decision.message for o in self.failures)


def assign_partitions(records: Sequence[dict], windows: Sequence[Window]) -> tuple[list[list[dict]], int]:
    """Split records by `created` into the windows; a record without a usable `created` goes to
    the first window (it will fail validation there). Returns the groups and how many records
    fell outside every window (an API that ignored the `created` filter)."""
    starts = [int(w.start.timestamp()) for w in windows]
    end = int(windows[-1].end.timestamp())
    groups: list[list[dict]] = [[] for _ in windows]
    outside = 0
    seen: set[str] = set()
    for record in records:
        record_id = record.get("id")
        if isinstance(record_id, str):
            if record_id in seen:  # a page boundary shifted under us: keep the first copy
                continue
            seen.add(record_id)
        created = record.get("created")
        if not isinstance(created, int) or isinstance(created, bool):
            groups[0].append(record)
            continue
        if created < starts[0] or created >= end:
            outside += 1
            continue
        groups[bisect.bisect_right(starts, created) - 1].append(record)
    return groups, outside


def load_partitions(
    reader: StripeReader,
    warehouse: Warehouse,
    resource: str,
    windows: Sequence[Window],
    *,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
) -> LoadReport:
    """Fetch, validate and land the consecutive `windows` of one resource."""
    began = time.perf_counter()
    warehouse.check_writable()  # before spending minutes on the API
    stats = FetchStats()
    records = reader.list_window(resource, windows[0].start, windows[-1].end, stats)
    groups, outside = assign_partitions(records, windows)

    validate_began = time.perf_counter()
    outcomes = []
    for window, group in zip(windows, groups):
        result = validate_records(resource, group, strict_enums=settings.strict_enums)
        outcomes.append(PartitionOutcome(window, result, decide(result, settings, label=f"{resource} {window.key}")))
    validate_seconds = time.perf_counter() - validate_began

    write_began = time.perf_counter()
    loaded_at = datetime.now(timezone.utc)
    writes = [_window_write(resource, o, columns, settings, run_id, loaded_at) for o in outcomes]
    warehouse.apply(resource, columns, QUARANTINE_COLUMNS, writes)
    now = time.perf_counter()
    return LoadReport(
        resource=resource,
        windows=windows,
        outcomes=outcomes,
        stats=stats,
        outside_window=outside,
        seconds=now - began,
        validate_seconds=validate_seconds,
        write_seconds=now - write_began,
        failures=[o for o in outcomes if not o.accepted],
    )


def _window_write(
    resource: str,
    outcome: PartitionOutcome,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    loaded_at: datetime,
) -> WindowWrite:
    window = outcome.window
    rows = None
    if outcome.accepted:
        rows = to_arrow(
            outcome.result.valid, columns, partition_of=lambda _: window.key, run_id=run_id, loaded_at=loaded_at
        )
    return WindowWrite(
        partition=window.key,
        start=window.start,
        end=window.end,
        rows=rows,
        quarantine=quarantine_table(resource, outcome.result, partition_key=window.key, run_id=run_id),
        load_record={
            "resource": resource,
            "partition": window.key,
            "window_start": window.start,
            "window_end": window.end,
            "run_id": run_id,
            "status": "loaded" if outcome.accepted else "rejected",
            "records_fetched": outcome.result.records_total,
            "records_loaded": outcome.records_loaded,
            "records_rejected": outcome.records_rejected,
            "error_rate_pct": round(100.0 * outcome.result.error_rate, 4),
            "threshold_pct": settings.threshold_pct,
            "loaded_at": loaded_at,
        },
    )
