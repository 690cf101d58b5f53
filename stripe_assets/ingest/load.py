"""One load, end to end, as plain Python: fetch → records → validation → warehouse.

A load covers one or more consecutive partition windows. Its range is read by many cursors at
once (`fetch`: created-slices paged newest first, dense ones split further), all drawing from
the key's shared request budget. A window is complete once no slice can return objects from it
any more: it is then validated, accepted or rejected on its own, turned into an Arrow batch and
landed (small windows a few per transaction) by a thread of its own while the fetch goes on:
waiting for the warehouse (whose lock other loads share) never holds up the reading.

Memory is bounded by a constant, not by the size of a window or the length of the range: at most
`BUFFER_RECORDS` parsed records wait in memory; a window that grows past `BATCH_RECORDS` is
validated a part at a time, its parts kept as Arrow batches (about a tenth of the parsed
objects' size) while they fit `HELD_PART_BYTES` and staged as Parquet beside the warehouse
beyond it, decided on its totals once complete, and swapped in with one transaction
(accept/reject per partition and all-or-nothing replacement as for small windows). Every
window that landed stays landed if the run dies.
The Dagster asset is a thin wrapper around `load_partitions`.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import queue
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import collect_now, young_collections_only
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.compiled import validate_part
from stripe_assets.ingest.fetch import DEFAULT_CONCURRENCY, PROGRESS_SECONDS, Fetch
from stripe_assets.ingest.memory import limit_arenas, release_freed
from stripe_assets.ingest.outcomes import Describe, LoadReport, OnPartition, PartitionOutcome, Window
from stripe_assets.ingest.progress import LoadProgress
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.rejected import OUTSIDE_WINDOW, RejectedRecord
from stripe_assets.ingest.validation.decision import decide
from stripe_assets.ingest.validation.merge import ResultMerger
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.ingest.validation.validate import Drift, ValidationResult
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import Fence, left_to_newer_runs, read_fence
from stripe_assets.ingest.warehouse.history import HistoryRetention, prune_history
from stripe_assets.ingest.warehouse.loads import count_rows

# Valid records an outcome keeps after its window landed (for previews); the rest are released.
KEPT_RECORDS = 5
# Completed windows wait as compact Arrow batches and land together once this many rows are
# queued: each warehouse transaction costs a connection and a checkpoint (~0.1 s), so tiny
# windows (minute dataflows, sparse history) should not pay it one by one.
FLUSH_ROWS = 20_000
# A window holding this many unvalidated records has them validated and staged.
BATCH_RECORDS = 10_000
# Unvalidated records held across all open windows; beyond it the fullest window is staged.
BUFFER_RECORDS = 20_000
# Validated parts held in memory as Arrow across all open windows (a day of 50,000 charges is
# about 130 MB); a window whose next part would exceed it is spilled to Parquet, which costs
# an encode, a decode and a file per part.
HELD_PART_BYTES = 160 * 1024 * 1024


_Landed = tuple[float, dict[str, str]]  # a write's seconds, and the partitions it set aside (-> newer run)
WriteStep = Callable[[duckdb.DuckDBPyConnection], None]  # more work in a write's connection


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
    concurrency: int = DEFAULT_CONCURRENCY,
    log: Callable[[str], None] | None = None,
    progress_seconds: float = PROGRESS_SECONDS,
    before_first_write: WriteStep | None = None,
    account: str | None = None,
    platform: str | None = None,
    first_spans: int | None = None,
) -> LoadReport:
    """Fetch, validate and land the consecutive `windows` of one resource.

    `account`: the Stripe account whose objects these are (the reader reads for it); the load
    replaces that account's rows only (`platform`: the key's own account, see `WindowWrite`).

    `describe` sees each window's validation result (its records are released right after);
    `on_partition` is called once the window landed. `log` receives progress lines (at most
    one per `progress_seconds`, and a last one) and the reader's retry warnings. Versions kept
    for rollback beyond `retention` are pruned after the load, and the table's rows counted
    (with the last windows' write, as one turn at the warehouse). `before_first_write` writes
    in the transaction of the first windows (the changes read from Stripe's events).
    """
    warehouse.check_writable()  # before spending minutes on the API
    fence = read_fence(warehouse, resource, run_id)  # no write may overwrite a load newer than this
    loader = _Loader(
        reader, warehouse, resource, windows, columns, settings, run_id, describe, on_partition,
        concurrency, LoadProgress(resource, len(windows), log, every=progress_seconds), log, fence=fence,
    )
    loader.before_first_write = before_first_write
    loader.retention = retention
    loader.account, loader.platform, loader.first_spans = account, platform, first_spans
    with young_collections_only():
        report = loader.run()
    if not loader.finished:  # nothing was left to land at the end: a turn of its own
        try:
            with warehouse.connect() as conn:
                loader.finish(conn)
        except Exception as exc:
            report.prune_error = _first_line(exc)
    report.seconds = time.perf_counter() - report.began
    return report


@dataclass
class _OpenWindow:
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

    def saw(self, ids: Sequence[object], at: float | None) -> None:
        if at is None:
            return
        self.since = at if self.since is None else min(self.since, at)
        for record_id in ids:
            if isinstance(record_id, str):
                self.observed.setdefault(record_id, at)


class _Loader:
    def __init__(
        self, reader, warehouse, resource, windows, columns, settings, run_id, describe, on_partition,
        concurrency, progress, log, *, fence: Fence | None = None,
    ):
        self.reader: StripeReader = reader
        self.warehouse: Warehouse = warehouse
        self.resource: str = resource
        self.created_field = get_resource(resource).created_field  # when Stripe created an object
        self.windows: Sequence[Window] = windows
        self.columns = columns
        self.settings: ValidationSettings = settings
        self.run_id: str = run_id
        self.describe = describe
        self.on_partition = on_partition
        self.concurrency = concurrency
        self.progress: LoadProgress = progress
        self.log = log
        self.fence = fence
        self.report = LoadReport(resource, windows)
        self.starts = [int(w.start.timestamp()) for w in windows]
        self.ends = [int(w.end.timestamp()) for w in windows]
        self.open: dict[int, _OpenWindow] = {}
        self.buffered = 0  # records held in open windows
        self.done = [False] * len(windows)
        self.late: set[int] = set()  # completed windows that received records afterwards
        self.pending: list[tuple[PartitionOutcome, WindowWrite]] = []
        self.held_bytes = 0  # validated parts held in memory, over all open windows
        self.windows_done = 0
        self.before_first_write: WriteStep | None = None
        self.staged_folders: list[str] = []  # made by this load (removed when it fails)
        self.kept_ids: set[str] = set()  # ids listed outside the range: their rows stay as they are
        # The one write under way (at most one: windows land in order), and what it lands.
        self.landing: tuple[list[tuple[PartitionOutcome, WindowWrite]], Future[_Landed]] | None = None
        self.lander: ThreadPoolExecutor | None = None
        self.retention = HistoryRetention()
        self.finished = False  # `finish` ran
        self.account: str | None = None
        self.platform: str | None = None
        self.first_spans: int | None = None  # the fetch's first slices (None: one per thread)
        # No window's fetch is older: the local time it began, or the oldest page (Stripe's clock).
        self.fetch_began = time.time()

    def run(self) -> LoadReport:
        with ThreadPoolExecutor(1, thread_name_prefix=f"land-{self.resource}") as self.lander:
            try:
                self._run()
            except BaseException:
                self._landed(failing=True)  # what landed is reported; the first error is raised
                self._drop_staging()
                raise
            finally:
                self.lander = None
        return self.report

    def _run(self) -> None:
        self.warehouse.drop_stale_staging(self.resource)
        limit_arenas()  # before the fetching threads allocate (see `memory`)
        warnings: queue.SimpleQueue[str] = queue.SimpleQueue()
        relay, self.reader.warn = self.reader.warn, warnings.put  # reader threads warn through us
        self.fetch_began = time.time()
        try:
            fetch = Fetch(
                self.reader, self.resource, [*self.starts, self.ends[-1]], self.report.stats,
                concurrency=self.concurrency, first_spans=self.first_spans,
            )
            for page in fetch.pages():
                while not warnings.empty():
                    message = warnings.get()
                    for sink in (relay, self.log):
                        if sink is not None:
                            sink(message)
                            break
                if page.observed is not None:
                    self.fetch_began = min(self.fetch_began, page.observed)
                self._route_page(page.records, page.asked, page.observed)
                for lo, hi in page.settled:
                    self._settle(fetch, lo, hi)
                if self.landing is not None and self.landing[1].done():
                    self._landed()  # a write that failed stops the load now, not a window later
                    if self._flush_due():
                        self._flush()  # windows that completed while it was under way
                self.progress.update(self.windows_done, self.report.stats, fetch.estimated_remaining())
            self.report.slices = fetch.slices_done
        finally:
            self.reader.warn = relay
        for index in reversed(range(len(self.windows))):  # what no span settled (none expected)
            if not self.done[index]:
                self._complete(index)
        # An API that does not list newest first: reload each affected window on its own (those
        # still queued are not written incomplete first).
        self.pending[:] = [(o, w) for o, w in self.pending if self.windows.index(o.window) not in self.late]
        self._flush(wait=True, last=not self.late)
        self._landed()  # every window written so far is in the report before late ones are redone
        for index in sorted(self.late):
            self.report.refetched += 1
            self.done[index] = False
            self.report.outcomes = [o for o in self.report.outcomes if o.window != self.windows[index]]
            window = self.windows[index]
            asked = (self.starts[index], self.ends[index])
            for objects in self.reader.list_pages(self.resource, window.start, window.end, self.report.stats):
                observed = self.reader.last_observed()
                if observed is not None:
                    self.fetch_began = min(self.fetch_began, observed)
                for record in objects:
                    stray = self._outside(record, asked)
                    self._add(
                        index,
                        self._stray(record, asked) if stray else record,
                        observed if observed is not None else self.fetch_began,
                    )
            self._complete(index)
        if self.late:
            self._flush(wait=True, last=True)
            self._landed()
        self.progress.finish(self.report.stats)

    # --- routing records ----------------------------------------------------------------

    def _route_page(
        self, records: list[dict], asked: tuple[int, int] | None = None, observed: float | None = None
    ) -> None:
        """A page's records: the usual page (objects with distinct ids, all of one open window)
        in one go, any other record by record. `asked`: the `created` span the page was asked
        for (default: the whole range); an object outside it is quarantined (`_stray`)."""
        asked = asked or (self.starts[0], self.ends[-1])
        index = self._one_open_window(records, asked)
        ids = [r["id"] for r in records] if index is not None else []
        window = self.open.get(index) if index is not None else None
        if (
            index is None
            or not set(map(type, ids)) <= {str}
            or len(set(ids)) != len(ids)
            or (window is not None and not window.seen.isdisjoint(ids))
        ):
            near: int | None = None  # the window of the page's other records: where its strays were listed
            strays = []
            for record in records:
                if self._outside(record, asked):
                    strays.append(record)
                    continue
                routed = self._route(record, observed)
                near = routed if near is None else near
            for record in strays:
                self._add_stray(record, asked, near, observed)
            return
        window = window or self.open.setdefault(index, _OpenWindow())
        window.seen.update(ids)
        window.saw(ids, observed)
        window.records += records
        self.buffered += len(records)
        self._stage_if_full(index)

    def _one_open_window(self, records: list[dict], asked: tuple[int, int]) -> int | None:
        """The window every record belongs to, when they are objects with an `id` and an integer
        `created` within `asked`, all in one window not complete yet; otherwise None."""
        if not records or not set(map(type, records)) <= {dict}:
            return None
        found = [r.get(self.created_field) for r in records]
        if not set(map(type, found)) <= {int} or not all("id" in r for r in records):
            return None
        created = cast(list[int], found)
        low, high = min(created), max(created)
        if low < max(self.starts[0], asked[0]) or high >= min(self.ends[-1], asked[1]):
            return None
        index = bisect.bisect_right(self.starts, low) - 1
        if index != bisect.bisect_right(self.starts, high) - 1 or self.done[index]:
            return None
        return index

    def _route(self, record: dict, observed: float | None = None) -> int | None:
        """Hand a record to its window; returns the window (None: outside the range, not added)."""
        index = _window_index(record, self.starts, self.ends[-1], self.created_field)
        if index is None:
            return None
        if self.done[index]:  # out of order: the window is fetched again on its own at the end
            self.late.add(index)
        else:
            self._add(index, record, observed)
        return index

    def _outside(self, record: dict, asked: tuple[int, int]) -> bool:
        field = self.created_field
        return _has_created(record, field) and not asked[0] <= record[field] < asked[1]

    def _stray(self, record: dict, asked: tuple[int, int]) -> RejectedRecord:
        """An object listed with a `created` outside the span it was asked for: it is not where
        it says it is, so it is quarantined (never dropped), and the row its id already has
        stays as it is in every window this load writes."""
        self.report.outside_window += 1
        if isinstance(record.get("id"), str):
            self.kept_ids.add(record["id"])
        start, end = (datetime.fromtimestamp(t, UTC).isoformat() for t in asked)
        field = self.created_field
        return RejectedRecord(
            record, column="created", check=OUTSIDE_WINDOW,
            reason=f"{field} {record[field]} is outside the requested window [{start}, {end})",
        )

    def _add_stray(self, record: dict, asked: tuple[int, int], near: int | None, observed: float | None = None) -> None:
        """Quarantine a stray in the window its page was reading, else the first one still open
        within the span it was asked for."""
        rejected = self._stray(record, asked)
        if near is None or self.done[near]:
            overlapping = [
                i for i, done in enumerate(self.done)
                if not done and self.starts[i] < asked[1] and asked[0] < self.ends[i]
            ]
            near = next(iter(overlapping), None)
        if near is None:
            near = next((i for i, done in enumerate(self.done) if not done), 0)
        if self.done[near]:
            self.late.add(near)  # that window is read again, the stray with it
        else:
            self._add(near, rejected, observed)

    def _add(self, index: int, record: dict, observed: float | None = None) -> None:
        window = self.open.setdefault(index, _OpenWindow())
        record_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(record_id, str):
            if record_id in window.seen:  # a page boundary shifted under us: keep the first copy
                return
            window.seen.add(record_id)
        window.saw([record_id], observed)
        window.records.append(record)
        self.buffered += 1
        self._stage_if_full(index)

    def _stage_if_full(self, index: int) -> None:
        """Validate a part once the window holds a batch, or the fullest window once all hold too much."""
        if len(self.open[index].records) >= BATCH_RECORDS:
            self._stage(index)
        elif self.buffered > BUFFER_RECORDS:
            self._stage(max(self.open, key=lambda i: len(self.open[i].records)))

    def _settle(self, fetch: Fetch, lo: int, hi: int) -> None:
        """Complete every window overlapping [lo, hi) that no slice can add to any more."""
        first = max(bisect.bisect_right(self.starts, lo) - 1, 0)
        last = bisect.bisect_left(self.starts, hi)
        for index in reversed(range(first, last)):
            if not self.done[index] and not fetch.pending_overlaps(self.starts[index], self.ends[index]):
                self._complete(index)

    # --- validating and landing ---------------------------------------------------------

    def _stage(self, index: int) -> None:
        """Validate the window's held records as one part: kept in memory, or in its staging folder."""
        window = self.open[index]
        records, window.records = window.records, []
        self.buffered -= len(records)
        window.seen = set()  # staged ids are no longer held; the swap keeps one row per id
        key = self.windows[index].key
        if window.merger is None:
            window.merger = ResultMerger(self.resource, self.settings.strict_enums)
            self.report.staged_windows += 1
        began = time.perf_counter()
        part = validate_part(self.resource, records, strict_enums=self.settings.strict_enums, columns=self.columns)
        converting = time.perf_counter()
        self.report.validate_seconds += converting - began
        observed = _observed_of(part.valid, window, self.fetch_began)
        window.observed = {}  # like `seen`: the part's times are in its rows now
        rows = _rows(part.valid, self.columns, key, self.run_id, observed) if part.valid else None
        quarantine = quarantine_table(self.resource, part, partition_key=key, run_id=self.run_id)
        window.merger.add(part)
        del records, part
        size = (rows.nbytes if rows is not None else 0) + quarantine.nbytes
        if window.staged is None and self.held_bytes + size <= HELD_PART_BYTES:
            window.held.append((rows, quarantine))
            window.held_bytes += size
            self.held_bytes += size
        else:
            self._spill(index, window)
            assert window.staged is not None
            self.warehouse.stage(window.staged, window.parts, rows, quarantine)
            window.parts += 1
        del rows, quarantine
        collect_now()
        release_freed()
        self.report.write_seconds += time.perf_counter() - converting

    def _spill(self, index: int, window: _OpenWindow) -> None:
        """Move the window's parts held in memory to its staging folder (in their order)."""
        if window.staged is None:
            window.staged = str(self.warehouse.staging_dir(self.resource, self.run_id, self.windows[index].key))
            self.staged_folders.append(window.staged)
            self.report.spilled_windows += 1
        for rows, quarantine in window.held:
            self.warehouse.stage(window.staged, window.parts, rows, quarantine)
            window.parts += 1
        window.held = []
        self.held_bytes -= window.held_bytes
        window.held_bytes = 0

    def _drop_staging(self) -> None:
        """A failed load leaves none of its staged parts behind: they may be what filled the
        disk, and a rerun stages its own (a landed window's parts are gone already)."""
        for folder in self.staged_folders:
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):  # the resource's folder, and the staging root, when empty
                Path(folder).parent.rmdir()
                Path(folder).parent.parent.rmdir()

    def _complete(self, index: int) -> None:
        self.done[index] = True
        self.windows_done += 1
        window = self.open.pop(index, None) or _OpenWindow()
        self.buffered -= len(window.records)
        if window.merger is None:
            outcome, write = _prepare_window(
                self.resource, self.windows[index], window.records, self.columns, self.settings, self.run_id,
                self.report, window, self.fetch_began,
            )
            write = dataclasses.replace(write, kept_ids=frozenset(self.kept_ids))
        else:
            if window.records:
                self.buffered += len(window.records)  # _stage counts them out again
                self.open[index] = window
                self._stage(index)
                del self.open[index]
            outcome, write = self._staged_write(index, window)
        write = dataclasses.replace(write, account=self.account, platform=self.platform)
        if self.describe is not None:
            outcome.details = self.describe(outcome)
        # Only the Arrow batch (or staging table) travels on: release the parsed records now.
        outcome.result = dataclasses.replace(outcome.result, valid=outcome.result.valid[:KEPT_RECORDS], invalid=[])
        self.pending.append((outcome, write))
        if self._flush_due():
            self._flush()

    def _staged_write(self, index: int, window: _OpenWindow) -> tuple[PartitionOutcome, WindowWrite]:
        assert window.merger is not None
        result = window.merger.result()
        target = self.windows[index]
        decision = decide(result, self.settings, label=f"{self.resource} {target.key}")
        outcome = PartitionOutcome(
            target, result, decision,
            records_total=result.records_total,
            records_valid=result.records_valid,
            records_rejected=result.records_invalid,
        )
        empty = ValidationResult(self.resource, 0, [], [], [], Drift())
        rows, quarantine = None, quarantine_table(self.resource, empty, partition_key=target.key, run_id=self.run_id)
        if window.held:  # every part is in memory: the window lands from its Arrow batches
            self.held_bytes -= window.held_bytes
            valid = [r for r, _ in window.held if r is not None]
            if decision.accept and valid:
                rows = _first_of_each_id(pa.concat_tables(valid))
            quarantine = pa.concat_tables([quarantine, *(q for _, q in window.held)])
            window.held, window.held_bytes = [], 0
        write = WindowWrite(
            partition=target.key,
            start=target.start,
            end=target.end,
            rows=rows,
            quarantine=quarantine,
            load_record=_load_record(self.resource, outcome, self.settings, self.run_id),
            staged=window.staged,
            keeps_deleted=_keeps_deleted(self.resource),
            kept_ids=frozenset(self.kept_ids),
            observed_at=_stamp(window.since if window.since is not None else self.fetch_began),
        )
        return outcome, write

    def _flush_due(self) -> bool:
        """Whether the pending windows should land now rather than wait for more."""
        pending = [w for _, w in self.pending]
        return any(w.staged is not None for w in pending) or sum(w.num_rows for w in pending) >= FLUSH_ROWS

    def _flush(self, *, wait: bool = False, last: bool = False) -> None:
        """Hand the pending windows to the lander. While a write is under way they wait for it
        (the page loop hands them over once it is done) unless they hold more memory than
        `HELD_PART_BYTES` or the caller must `wait`: only then does the reading wait. The `last`
        write also does what `finish` does."""
        if self.landing is not None:
            held = sum(w.quarantine.nbytes + (w.rows.nbytes if w.rows is not None else 0) for _, w in self.pending)
            if not (wait or self.landing[1].done() or held > HELD_PART_BYTES):
                return
            self._landed()
        if not self.pending:
            return
        # Newest first, as one cursor lands them: the load log's order does not depend on which
        # slice finished first.
        batch = sorted(self.pending, key=lambda pair: pair[0].window.start, reverse=True)
        self.pending.clear()
        before, self.before_first_write = self.before_first_write, None
        assert self.lander is not None, "windows land while the load runs"
        after = self.finish if last else None
        self.landing = (batch, self.lander.submit(self._land, [w for _, w in batch], before, after))

    def _land(self, writes: list[WindowWrite], before: WriteStep | None, after: WriteStep | None) -> _Landed:
        began = time.perf_counter()
        set_aside = self.warehouse.apply(
            self.resource, self.columns, QUARANTINE_COLUMNS, writes, fence=self.fence, before=before, after=after
        )
        return time.perf_counter() - began, set_aside

    def finish(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Once per load, after its last write: prune the versions beyond the retention and
        count the table's rows. A failure here leaves everything that landed as it is."""
        self.finished = True
        prune_and_count(conn, self.resource, self.retention, self.report)

    def _landed(self, *, failing: bool = False) -> None:
        """Wait for the write under way and report its windows. Its error is raised, unless the
        load is `failing` already (then that error is the one the caller sees)."""
        if self.landing is None:
            return
        batch, write = self.landing
        self.landing = None
        try:
            seconds, set_aside = write.result()
        except Exception:
            if failing:
                return
            raise
        self.report.write_seconds += seconds
        if set_aside:
            self.report.left_to.update(set_aside)
            if self.log is not None:
                self.log(left_to_newer_runs(self.resource, set_aside))
        for outcome, _ in batch:
            outcome.left_to = set_aside.get(outcome.window.key)
            self.report.outcomes.append(outcome)
            if self.on_partition is not None:
                self.on_partition(outcome, self.report)


def _first_of_each_id(rows: pa.Table) -> pa.Table:
    """The rows without later copies of an id (an API that listed an object twice, in two parts)."""
    ids = rows.column("id")
    if pc.count_distinct(ids).as_py() == rows.num_rows:
        return rows
    first: dict[str, int] = {}
    keep = [first.setdefault(i, n) == n for n, i in enumerate(ids.to_pylist())]
    return rows.filter(pa.array(keep))


def prune_and_count(
    conn: duckdb.DuckDBPyConnection, resource: str, retention: HistoryRetention, report: LoadReport
) -> None:
    """After a load's last write: prune versions beyond `retention` and count the table's rows.
    A failure is reported (`prune_error`), never raised: everything loaded has landed."""
    try:
        prune_history(conn, resource, keep=retention.keep_versions, keep_days=retention.keep_days)
    except Exception as exc:
        report.prune_error = _first_line(exc)
    with contextlib.suppress(duckdb.Error):
        report.table_rows = count_rows(conn, get_resource(resource).table)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _has_created(record: object, field: str = "created") -> bool:
    created = record.get(field) if isinstance(record, dict) else None
    return isinstance(created, int) and not isinstance(created, bool)


def _window_index(record: dict, starts: list[int], end: int, field: str) -> int | None:
    """The window a record belongs to by its creation `field`; one without a usable one goes to the
    first window (it fails validation there); None when it lies outside the whole range."""
    if not _has_created(record, field):
        return 0
    created = record[field]
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
    fetched: _OpenWindow,
    fetch_began: float,
) -> tuple[PartitionOutcome, WindowWrite]:
    began = time.perf_counter()
    result = validate_part(resource, records, strict_enums=settings.strict_enums, columns=columns)
    decision = decide(result, settings, label=f"{resource} {window.key}")
    outcome = PartitionOutcome(
        window, result, decision,
        records_total=result.records_total,
        records_valid=len(result.valid),
        records_rejected=len(result.invalid),
    )
    converting = time.perf_counter()
    report.validate_seconds += converting - began
    write = _window_write(resource, outcome, columns, settings, run_id, fetched, fetch_began)
    report.write_seconds += time.perf_counter() - converting  # building the batch is part of writing
    return outcome, write


def _rows(
    records: list[dict], columns: Sequence[ColumnSpec], key: str, run_id: str, observed: list[datetime | None]
) -> pa.Table:
    return to_arrow(
        records, columns, partition_of=lambda _: key, run_id=run_id, loaded_at=datetime.now(UTC), observed_at=observed
    )


def _stamp(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _observed_of(records: list[dict], window: _OpenWindow, fetch_began: float) -> list[datetime | None]:
    """How new each record's state is: when its page was asked for (else the window's first page,
    else the fetch's start: never later than the truth)."""
    fallback = window.since if window.since is not None else fetch_began
    return [_stamp(window.observed.get(str(r.get("id")), fallback)) for r in records]


def _load_record(resource: str, outcome: PartitionOutcome, settings: ValidationSettings, run_id: str) -> dict:
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


def _window_write(
    resource: str,
    outcome: PartitionOutcome,
    columns: Sequence[ColumnSpec],
    settings: ValidationSettings,
    run_id: str,
    fetched: _OpenWindow,
    fetch_began: float,
) -> WindowWrite:
    window = outcome.window
    valid = outcome.result.valid
    rows = None
    if outcome.accepted:
        rows = _rows(valid, columns, window.key, run_id, _observed_of(valid, fetched, fetch_began))
    return WindowWrite(
        partition=window.key,
        start=window.start,
        end=window.end,
        rows=rows,
        quarantine=quarantine_table(resource, outcome.result, partition_key=window.key, run_id=run_id),
        load_record=_load_record(resource, outcome, settings, run_id),
        keeps_deleted=_keeps_deleted(resource),
        observed_at=_stamp(fetched.since if fetched.since is not None else fetch_began),
    )


def _keeps_deleted(resource: str) -> bool:
    """Stripe can delete these objects: their rows outlive the reload of their window."""
    return bool(get_resource(resource).deletion_events)
