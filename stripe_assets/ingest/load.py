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
The Dagster asset is a thin wrapper around `load_partitions`. The parts: `routing` places records
in open windows, `parts` keeps a large window's validated parts (in memory, else staged),
`prepare` turns a window into its write, `landing` lands completed windows; `Loader` drives them.
"""


from __future__ import annotations

import bisect
import dataclasses
import functools
import queue
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import Collections, collections_paused
from stripe_assets.ingest.fetch import Fetch
from stripe_assets.ingest.landing import Lander, WriteStep, first_line
from stripe_assets.ingest.lean import lean_plan, restore
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.memory import limit_arenas, release_freed
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome, Window
from stripe_assets.ingest.parts import PartStore
from stripe_assets.ingest.prepare import (
    OpenWindow,
    first_of_each_id,
    keeps_deleted,
    load_record,
    observed_of,
    prepare_window,
    stamp,
    window_rows,
)
from stripe_assets.ingest.progress import LoadProgress
from stripe_assets.ingest.routing import OpenWindows
from stripe_assets.ingest.validation.decision import decide
from stripe_assets.ingest.validation.merge import ResultMerger
from stripe_assets.ingest.validation.part import validate_part
from stripe_assets.ingest.validation.quarantine import quarantine_table
from stripe_assets.ingest.validation.validate import Drift, ValidationResult
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import Fence, read_fence

# Valid records an outcome keeps after its window landed (for previews); the rest are released.
KEPT_RECORDS = 5
# Records read between two full collections in a load of many small windows, and staged between
# two returns of freed memory to the system (parts of a batch reuse it in between).
TIDY_RECORDS = 10_000


def load_partitions(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeResource,
    windows: Sequence[Window],
    options: LoadOptions,
    *,
    before_first_write: WriteStep | None = None,
    account: str | None = None,
    platform: str | None = None,
    first_spans: int | None = None,
) -> LoadReport:
    """Fetch, validate and land the consecutive `windows` of the resource `spec` declares, as
    `options` say.

    `account`: the Stripe account whose objects these are (the reader reads for it); the load
    replaces that account's rows only (`platform`: the key's own account, see `WindowWrite`).

    Versions kept for rollback beyond the retention are pruned after the load, and the table's
    rows counted (with the last windows' write, as one turn at the warehouse).
    `before_first_write` writes in the transaction of the first windows (the changes read from
    Stripe's events).
    """
    with collections_paused():  # from the first statement to the last: see `collector`
        warehouse.check_writable()  # before spending minutes on the API
        fence = read_fence(warehouse, spec.name, options.run_id)  # no write may overwrite a load newer than this
        loader = Loader(
            reader, warehouse, spec, windows, options,
            fence=fence, before_first_write=before_first_write, account=account, platform=platform,
            first_spans=first_spans,
        )  # fmt: skip
        report = loader.run()
        if not loader.lander.finished:  # nothing was left to land at the end: a turn of its own
            try:
                with warehouse.connect() as conn:
                    loader.lander.finish(conn)
            except Exception as exc:
                report.prune_error = first_line(exc)
    report.seconds = time.perf_counter() - report.began
    return report


class Loader:
    """One load's run: reads the range, routes its records into windows (`OpenWindows`), keeps a
    large window's validated parts (`PartStore`), prepares each completed window's write and
    hands it to the `Lander`."""

    def __init__(
        self,
        reader: StripeReader,
        warehouse: Warehouse,
        spec: StripeResource,
        windows: Sequence[Window],
        options: LoadOptions,
        *,
        fence: Fence | None = None,
        before_first_write: WriteStep | None = None,
        account: str | None = None,
        platform: str | None = None,
        first_spans: int | None = None,
    ):
        self.reader: StripeReader = reader
        self.warehouse: Warehouse = warehouse
        self.spec = spec
        self.resource: str = spec.name
        self.windows: Sequence[Window] = windows
        self.columns = options.columns
        self.settings = options.settings
        # Fields of the objects nobody reads past their type: left unbuilt by the fetch threads.
        self.lean = lean_plan(spec, self.columns, self.settings.strict_enums)
        self.run_id: str = options.run_id
        self.describe = options.describe
        self.concurrency = options.concurrency
        self.log = options.log
        self.progress = LoadProgress(self.resource, len(windows), options.log, every=options.progress_seconds)
        self.report = LoadReport(self.resource, windows)
        self.route = OpenWindows(windows, spec.created_field, self.report, self._stage)
        self.parts = PartStore(warehouse, self.resource, self.run_id, self.report)
        self.lander = Lander(
            warehouse, spec, self.columns, self.report, fence=fence, retention=options.retention,
            on_partition=options.on_partition, log=options.log, before_first_write=before_first_write,
        )  # fmt: skip
        self.windows_done = 0
        self.account = account  # whose objects these are (see `load_partitions`)
        self.platform = platform
        self.first_spans = first_spans  # the fetch's first slices (None: one per thread)
        self.collections = Collections(every=TIDY_RECORDS)
        self.staged_since_release = 0  # records staged since freed memory last went back to the system
        # No window's fetch is older: the local time it began, or the oldest page (Stripe's clock).
        self.fetch_began = time.time()

    def run(self) -> LoadReport:
        with ThreadPoolExecutor(1, thread_name_prefix=f"land-{self.resource}") as self.lander.executor:
            try:
                self._run()
            except BaseException:
                self.lander.landed(failing=True)  # what landed is reported; the first error is raised
                self.parts.drop_staging()
                raise
            finally:
                self.lander.executor = None
        return self.report

    def _run(self) -> None:
        self.warehouse.drop_stale_staging(self.resource)
        limit_arenas()  # before the fetching threads allocate (see `memory`)
        warnings: queue.SimpleQueue[str] = queue.SimpleQueue()
        relay, self.reader.warn = self.reader.warn, warnings.put  # reader threads warn through us
        self.fetch_began = time.time()
        route = self.route
        try:
            fetch = Fetch(
                self.reader, self.spec, [*route.starts, route.ends[-1]], self.report.stats,
                concurrency=self.concurrency, first_spans=self.first_spans, lean=self.lean,
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
                route.route_page(page.records, page.asked, page.observed)
                self.collections.read += len(page.records)
                for lo, hi in page.settled:
                    self._settle(fetch, lo, hi)
                self.lander.poll()
                self.progress.update(self.windows_done, self.report.stats, fetch.estimated_remaining())
            self.report.slices = fetch.slices_done
        finally:
            self.reader.warn = relay
        for index in reversed(range(len(self.windows))):  # what no span settled (none expected)
            if not route.done[index]:
                self._complete(index)
        # An API that does not list newest first: reload each affected window on its own (those
        # still queued are not written incomplete first).
        pending = self.lander.pending
        pending[:] = [(o, w) for o, w in pending if self.windows.index(o.window) not in route.late]
        self.lander.flush(wait=True, last=not route.late)
        self.lander.landed()  # every window written so far is in the report before late ones are redone
        for index in sorted(route.late):
            self.report.refetched += 1
            route.done[index] = False
            self.report.outcomes = [o for o in self.report.outcomes if o.window != self.windows[index]]
            window = self.windows[index]
            asked = (route.starts[index], route.ends[index])
            for objects in self.reader.list_pages(self.spec, window.start, window.end, self.report.stats):
                observed = self.reader.last_observed()
                if observed is not None:
                    self.fetch_began = min(self.fetch_began, observed)
                self.collections.read += len(objects)
                for record in objects:
                    stray = route.outside(record, asked)
                    route.add(
                        index,
                        route.stray(record, asked) if stray else record,
                        observed if observed is not None else self.fetch_began,
                    )
            self._complete(index)
        if route.late:
            self.lander.flush(wait=True, last=True)
            self.lander.landed()
        self.progress.finish(self.report.stats)

    def _settle(self, fetch: Fetch, lo: int, hi: int) -> None:
        """Complete every window overlapping [lo, hi) that no slice can add to any more."""
        starts = self.route.starts
        first = max(bisect.bisect_right(starts, lo) - 1, 0)
        last = bisect.bisect_left(starts, hi)
        for index in reversed(range(first, last)):
            if not self.route.done[index] and not fetch.pending_overlaps(starts[index], self.route.ends[index]):
                self._complete(index)

    # --- validating and landing ---------------------------------------------------------

    def _stage(self, index: int) -> None:
        """Validate the window's held records as one part: kept in memory, or in its staging folder."""
        window = self.route.open[index]
        records, window.records = window.records, []
        texts, window.texts = window.texts, {}
        count = len(records)
        self.route.buffered -= count
        window.seen = set()  # staged ids are no longer held; the swap keeps one row per id
        key = self.windows[index].key
        if window.merger is None:
            window.merger = ResultMerger(self.resource, self.settings.strict_enums)
            self.report.staged_windows += 1
        began = time.perf_counter()
        reads: dict[str, list] = {}  # the valid records' top-level values, read once for both
        part = validate_part(
            self.spec, records, strict_enums=self.settings.strict_enums, columns=self.columns, reads=reads,
            restore=functools.partial(restore, texts=texts, names=window.lean),
        )
        converting = time.perf_counter()
        self.report.validate_seconds += converting - began
        observed = observed_of(part.valid, window, self.fetch_began)
        window.observed = {}  # like `seen`: the part's times are in its rows now
        rows = None
        if part.valid:
            rows = window_rows(part.valid, self.columns, key, self.run_id, observed, reads or None, texts)
        quarantine = quarantine_table(part, partition_key=key, run_id=self.run_id)
        window.merger.add(part)
        del records, part, reads, texts
        self.parts.keep(window, key, rows, quarantine)
        del rows, quarantine
        self.collections.part_done()
        self.staged_since_release += count
        if self.staged_since_release >= TIDY_RECORDS:
            release_freed()
            self.staged_since_release = 0
        self.report.write_seconds += time.perf_counter() - converting

    def _complete(self, index: int) -> None:
        self.route.done[index] = True
        self.windows_done += 1
        window = self.route.open.pop(index, None) or OpenWindow()
        self.route.buffered -= len(window.records)
        if window.merger is None:
            outcome, write = prepare_window(
                self.spec, self.windows[index], window.records, self.columns, self.settings, self.run_id,
                self.report, window, self.fetch_began,
            )
            write = dataclasses.replace(write, kept_ids=frozenset(self.route.kept_ids))
        else:
            if window.records:
                self.route.buffered += len(window.records)  # _stage counts them out again
                self.route.open[index] = window
                self._stage(index)
                del self.route.open[index]
            outcome, write = self._staged_write(index, window)
        write = dataclasses.replace(write, account=self.account, platform=self.platform)
        if self.describe is not None:
            outcome.details = self.describe(outcome)
        # Only the Arrow batch (or staging table) travels on: release the parsed records now.
        outcome.result = dataclasses.replace(outcome.result, valid=outcome.result.valid[:KEPT_RECORDS], invalid=[])
        self.lander.queue(outcome, write)
        del window, outcome, write  # the window's parsed records go with them
        self.collections.window_done()

    def _staged_write(self, index: int, window: OpenWindow) -> tuple[PartitionOutcome, WindowWrite]:
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
        rows, quarantine = None, quarantine_table(empty, partition_key=target.key, run_id=self.run_id)
        if window.held:  # every part is in memory: the window lands from its Arrow batches
            valid, quarantines = self.parts.take_held(window)
            if decision.accept and valid:
                rows = first_of_each_id(pa.concat_tables(valid))
            quarantine = pa.concat_tables([quarantine, *quarantines])
        write = WindowWrite(
            partition=target.key,
            start=target.start,
            end=target.end,
            rows=rows,
            quarantine=quarantine,
            load_record=load_record(self.resource, outcome, self.settings, self.run_id),
            staged=window.staged,
            keeps_deleted=keeps_deleted(self.spec),
            kept_ids=frozenset(self.route.kept_ids),
            observed_at=stamp(window.since if window.since is not None else self.fetch_began),
        )
        return outcome, write
