"""Preparing a window's write: its records validated, decided, and turned into the Arrow batch,
quarantine and load-log row the warehouse lands (`WindowWrite`).

Shared by every load that reads windows: the top-level load (`load.py`), connected accounts
(`connected.py`); `OpenWindow` is a window whose records are still coming, and `window_index`
places a record in its window by its creation field.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.lean import restore
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome, Window
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation.decision import decide
from stripe_assets.ingest.validation.merge import ResultMerger
from stripe_assets.ingest.validation.part import validate_part
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.quarantine import quarantine_table
from stripe_assets.ingest.warehouse import WindowWrite


@dataclass
class OpenWindow:
    """A window whose records are still coming."""

    records: list[dict] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # ids held in `records` (a repeat is dropped)
    staged: str | None = None  # its staging folder, once its parts were spilled there
    parts: int = 0  # parts written to `staged`
    merger: ResultMerger | None = None  # the validation of its parts (None: not validated in parts)
    held: list[tuple[pa.Table | None, pa.Table]] = field(default_factory=list)  # parts in memory: rows, quarantine
    held_bytes: int = 0
    # How new each record's page is (by id; the first copy's, Stripe's clock), and the oldest page
    # that brought any (`since`): how new its states are, and the window's fetch as a whole.
    observed: dict[str, float] = field(default_factory=dict)
    since: float | None = None
    # The JSON text a list page sent for records in `records` (`pages.PageObjects`), by the
    # record's identity; the record itself is kept beside it, so a text is only ever taken for
    # the very object it was cut for.
    texts: dict[int, tuple[dict, bytes]] = field(default_factory=dict)
    lean: tuple[str, ...] = ()  # fields its records may hold placeholders in (`lean`), restored from `texts`

    def add_page(self, records: list[dict]) -> None:
        """Hold a page's records (all of them), with their texts when the page has them."""
        self.records += records
        texts = getattr(records, "texts", None)
        if texts is not None:
            self.texts.update(zip(map(id, records), zip(records, texts, strict=True), strict=True))
            self.lean = self.lean or getattr(records, "lean", ())

    def saw(self, ids: Sequence[object], at: float | None) -> None:
        if at is None:
            return
        self.since = at if self.since is None else min(self.since, at)
        if set(map(type, ids)) <= {str} and self.observed.keys().isdisjoint(ids):  # a usual page: in C
            self.observed.update(dict.fromkeys(cast(Sequence[str], ids), at))
            return
        for record_id in ids:
            if isinstance(record_id, str):
                self.observed.setdefault(record_id, at)


def has_created(record: object, field: str = "created") -> bool:
    created = record.get(field) if isinstance(record, dict) else None
    return isinstance(created, int) and not isinstance(created, bool)


def window_index(record: dict, starts: list[int], end: int, field: str) -> int | None:
    """The window a record belongs to by its creation `field`; one without a usable one goes to the
    first window (it fails validation there); None when it lies outside the whole range."""
    if not has_created(record, field):
        return 0
    created = record[field]
    if created < starts[0] or created >= end:
        return None
    return bisect.bisect_right(starts, created) - 1


def prepare_window(
    spec: StripeResource,
    window: Window,
    records: list[dict],
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    report: LoadReport,
    fetched: OpenWindow,
    fetch_began: float,
) -> tuple[PartitionOutcome, WindowWrite]:
    began = time.perf_counter()
    reads: dict[str, list] = {}  # the valid records' top-level values, read once for both
    outcome = judge_window(
        spec,
        window,
        records,
        columns,
        settings,
        reads,
        restore=lambda doubted: restore(doubted, fetched.texts, fetched.lean),
    )
    converting = time.perf_counter()
    report.validate_seconds += converting - began
    write = window_write(spec, outcome, columns, settings, run_id, fetched, fetch_began, reads or None)
    report.write_seconds += time.perf_counter() - converting  # building the batch is part of writing
    return outcome, write


def window_rows(
    records: list[dict],
    columns: Sequence[ColumnSpec],
    key: str,
    run_id: str,
    observed: list[datetime | None],
    tops: Mapping[str, list] | None = None,
    texts: Mapping[int, tuple[dict, bytes]] | None = None,
) -> pa.Table:
    """`texts`: the records' JSON texts as their pages sent them (`OpenWindow.texts`)."""
    return to_arrow(
        records,
        columns,
        partition_of=lambda _: key,
        run_id=run_id,
        loaded_at=datetime.now(UTC),
        observed_at=observed,
        tops=tops,
        texts=texts_of(records, texts) if texts else None,
    )


def texts_of(records: Sequence[dict], texts: Mapping[int, tuple[dict, bytes]]) -> list[bytes | None]:
    """Each record's text as its page sent it, None where there is none (or it was cut for
    another object)."""
    found = list(map(texts.get, map(id, records)))
    return [
        None if entry is None or entry[0] is not record else entry[1]
        for record, entry in zip(records, found, strict=True)
    ]


def stamp(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def observed_of(records: list[dict], window: OpenWindow, fetch_began: float) -> list[datetime | None]:
    """How new each record's state is: when its page was asked for (else the window's first page,
    else the fetch's start: never later than the truth)."""
    fallback = window.since if window.since is not None else fetch_began
    times = [window.observed.get(str(r.get("id")), fallback) for r in records]
    # A part's records came in a few pages: each page's time is turned into a datetime once.
    stamps = {at: stamp(at) for at in set(times)}
    return list(map(stamps.__getitem__, times))


def judge_window(
    spec: StripeResource,
    window: Window,
    records: list[dict],
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    reads: dict[str, list] | None = None,
    restore: Callable[[list[dict]], None] | None = None,
) -> PartitionOutcome:
    """A window's records, all at hand, validated and decided on (accepted or rejected).
    `reads`, `restore`: see `validate_part`."""
    result = validate_part(
        spec, records, strict_enums=settings.strict_enums, columns=columns, reads=reads, restore=restore
    )
    decision = decide(result, settings, label=f"{spec.name} {window.key}")
    return PartitionOutcome(
        window, result, decision,
        records_total=result.records_total,
        records_valid=len(result.valid),
        records_rejected=len(result.invalid),
    )  # fmt: skip


def load_record(resource: str, outcome: PartitionOutcome, settings: ValidationSettings, run_id: str) -> dict:
    window = outcome.window
    return {
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
    }


def window_write(
    spec: StripeResource,
    outcome: PartitionOutcome,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    fetched: OpenWindow,
    fetch_began: float,
    tops: Mapping[str, list] | None = None,
) -> WindowWrite:
    resource, window = spec.name, outcome.window
    valid = outcome.result.valid
    rows = None
    if outcome.accepted:
        observed = observed_of(valid, fetched, fetch_began)
        rows = window_rows(valid, columns, window.key, run_id, observed, tops, fetched.texts)
    return WindowWrite(
        partition=window.key,
        start=window.start,
        end=window.end,
        rows=rows,
        quarantine=quarantine_table(outcome.result, partition_key=window.key, run_id=run_id),
        load_record=load_record(resource, outcome, settings, run_id),
        keeps_deleted=keeps_deleted(spec),
        observed_at=stamp(fetched.since if fetched.since is not None else fetch_began),
    )


def keeps_deleted(spec: StripeResource) -> bool:
    """Stripe can delete these objects: their rows outlive the reload of their window."""
    return bool(spec.deletion_events)


def first_of_each_id(rows: pa.Table) -> pa.Table:
    """The rows without later copies of an id (an API that listed an object twice, in two parts)."""
    ids = rows.column("id")
    if pc.count_distinct(ids).as_py() == rows.num_rows:
        return rows
    first: dict[str, int] = {}
    keep = [first.setdefault(i, n) == n for n, i in enumerate(ids.to_pylist())]
    return rows.filter(pa.array(keep))
