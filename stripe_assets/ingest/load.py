"""One load, end to end, as plain Python: fetch → records → validation → warehouse.

A load covers one or more consecutive partition windows with a single paginated fetch. Stripe
lists newest first, so a window is complete as soon as a page reaches an older one: it is then
validated, accepted or rejected on its own, turned into an Arrow batch, and landed (a few
windows per transaction) while the fetch goes on. Memory stays bounded however long the range
(a first backfill can span years), and every window that landed stays landed if the run dies.
The Dagster asset is a thin wrapper around `load_partitions`.
"""

from __future__ import annotations

import bisect
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stripe_assets.ingest.client import FetchStats, StripeReader
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation.decision import Decision, decide
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.ingest.validation.validate import ValidationResult, validate_records
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.history import HistoryRetention, prune_history

# Valid records an outcome keeps after its window landed (for previews); the rest are released.
KEPT_RECORDS = 5
# Completed windows wait as compact Arrow batches and land together once this many rows are
# queued: each warehouse transaction costs a connection and a checkpoint (~0.1 s), so tiny
# windows (minute dataflows, sparse history) should not pay it one by one.
FLUSH_ROWS = 20_000


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
    details: object = None  # what `describe` made of the full result, before it was trimmed

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
    outside_window: int = 0  # objects the API returned outside the requested range (dropped)
    refetched: int = 0  # windows fetched again because the API listed out of order
    prune_error: str | None = None  # pruning old versions failed (everything loaded did land)
    began: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0  # set when the load finished
    validate_seconds: float = 0.0
    write_seconds: float = 0.0

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


OnPartition = Callable[[PartitionOutcome, LoadReport], None]
Describe = Callable[[PartitionOutcome], object]


def load_partitions(
    reader: StripeReader,
    warehouse: Warehouse,
    resource: str,
    windows: Sequence[Window],
    *,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    describe: Describe | None = None,
    on_partition: OnPartition | None = None,
    retention: HistoryRetention = HistoryRetention(),
) -> LoadReport:
    """Fetch, validate and land the consecutive `windows` of one resource.

    `describe` sees each window's full validation result (its records are released right
    after); `on_partition` is called once the window landed, newest window first. Versions kept
    for rollback beyond `retention` are pruned after each write.
    """
    warehouse.check_writable()  # before spending minutes on the API
    report = LoadReport(resource, windows)
    starts = [int(w.start.timestamp()) for w in windows]
    range_end = int(windows[-1].end.timestamp())
    buffers: list[list[dict]] = [[] for _ in windows]
    landed = [False] * len(windows)
    late: set[int] = set()  # landed windows that received records afterwards
    seen: dict[int, set[str]] = {}  # ids per window not yet landed (a repeat after landing is `late`)

    pending: list[tuple[PartitionOutcome, WindowWrite]] = []

    def flush() -> None:
        if not pending:
            return
        began = time.perf_counter()
        warehouse.apply(resource, columns, QUARANTINE_COLUMNS, [write for _, write in pending])
        report.write_seconds += time.perf_counter() - began
        for outcome, _ in pending:
            report.outcomes.append(outcome)
            if on_partition is not None:
                on_partition(outcome, report)
        pending.clear()

    def land(index: int, records: list[dict]) -> None:
        seen.pop(index, None)
        outcome, write = _prepare_window(resource, windows[index], records, columns, settings, run_id, report)
        if describe is not None:
            outcome.details = describe(outcome)
        # Only the Arrow batch travels on: release the parsed records now.
        outcome.result = dataclasses.replace(outcome.result, valid=outcome.result.valid[:KEPT_RECORDS], invalid=[])
        pending.append((outcome, write))
        if sum(write.num_rows for _, write in pending) >= FLUSH_ROWS:
            flush()

    next_to_land = len(windows) - 1
    for page in reader.list_pages(resource, windows[0].start, windows[-1].end, report.stats):
        for record in page:
            index = _window_index(record, starts, range_end)
            if index is None:
                report.outside_window += 1
                continue
            if landed[index]:  # out of order: the window is fetched again on its own below
                late.add(index)
                continue
            record_id = record.get("id")
            if isinstance(record_id, str):
                ids = seen.setdefault(index, set())
                if record_id in ids:  # a page boundary shifted under us: keep the first copy
                    continue
                ids.add(record_id)
            buffers[index].append(record)
            # Newest first: a record in window `index` means every newer window is complete.
            # Records without a usable `created` go to the oldest window and move nothing.
            if index > 0 or _has_created(record):
                while next_to_land > index:
                    land(next_to_land, buffers[next_to_land])
                    buffers[next_to_land] = []
                    landed[next_to_land] = True
                    next_to_land -= 1
    while next_to_land >= 0:
        land(next_to_land, buffers[next_to_land])
        buffers[next_to_land] = []
        landed[next_to_land] = True
        next_to_land -= 1
    # An API that does not list newest first: reload each affected window on its own (those
    # still queued are not written incomplete first).
    pending[:] = [(o, w) for o, w in pending if windows.index(o.window) not in late]
    flush()
    for index in sorted(late):
        report.refetched += 1
        records = reader.list_window(resource, windows[index].start, windows[index].end, report.stats)
        report.outcomes = [o for o in report.outcomes if o.window != windows[index]]
        land(index, records)
    flush()
    report.prune_error = _prune(warehouse, resource, retention)
    report.seconds = time.perf_counter() - report.began
    return report


def _prune(warehouse: Warehouse, resource: str, retention: HistoryRetention) -> str | None:
    """Drop versions beyond the retention, once per load; a failure leaves the load intact."""
    try:
        with warehouse.connect() as conn:
            prune_history(conn, resource, keep=retention.keep_versions, keep_days=retention.keep_days)
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def _has_created(record: dict) -> bool:
    created = record.get("created")
    return isinstance(created, int) and not isinstance(created, bool)


def _window_index(record: dict, starts: list[int], end: int) -> int | None:
    """The window a record belongs to by `created`; one without a usable `created` goes to the
    first window (it fails validation there); None when it lies outside the whole range."""
    if not _has_created(record):
        return 0
    created = record["created"]
    if created < starts[0] or created >= end:
        return None
    return bisect.bisect_right(starts, created) - 1


def _prepare_window(
    resource: str,
    window: Window,
    records: list[dict],
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    report: LoadReport,
) -> tuple[PartitionOutcome, WindowWrite]:
    began = time.perf_counter()
    result = validate_records(resource, records, strict_enums=settings.strict_enums)
    decision = decide(result, settings, label=f"{resource} {window.key}")
    outcome = PartitionOutcome(
        window, result, decision,
        records_total=result.records_total,
        records_valid=len(result.valid),
        records_rejected=len(result.invalid),
    )
    converting = time.perf_counter()
    report.validate_seconds += converting - began
    write = _window_write(resource, outcome, columns, settings, run_id)
    report.write_seconds += time.perf_counter() - converting  # building the batch is part of writing
    return outcome, write


def _window_write(
    resource: str,
    outcome: PartitionOutcome,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
) -> WindowWrite:
    window = outcome.window
    loaded_at = datetime.now(UTC)
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
            "records_fetched": outcome.records_total,
            "records_loaded": outcome.records_loaded,
            "records_rejected": outcome.records_rejected,
            "error_rate_pct": round(100.0 * outcome.error_rate, 4),
            "threshold_pct": settings.threshold_pct,
        },
    )
