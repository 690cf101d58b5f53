"""Landing a load's completed windows: they wait as compact Arrow batches (or staged parts) and
are handed, newest first, to a thread of their own that writes them in one warehouse transaction,
while the fetch goes on; at most one write is under way. The load's last write also prunes the
versions beyond the retention and counts the table's rows (`finish`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest import parts
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.outcomes import LoadReport, OnPartition, PartitionOutcome
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import Fence, left_to_newer_runs
from stripe_assets.ingest.warehouse.history import HistoryRetention, prune_history
from stripe_assets.ingest.warehouse.loads import count

# Completed windows wait as compact Arrow batches and land together once this many rows are
# queued: each warehouse transaction costs a connection and a checkpoint (~0.1 s), so tiny
# windows (minute dataflows, sparse history) should not pay it one by one.
FLUSH_ROWS = 20_000

_Landed = tuple[float, dict[str, str]]  # a write's seconds, and the partitions it set aside (-> newer run)
WriteStep = Callable[[duckdb.DuckDBPyConnection], None]  # more work in a write's connection


class Lander:
    """The completed windows of one load, from waiting to landed and reported."""

    def __init__(
        self,
        warehouse: Warehouse,
        spec: StripeResource,
        columns: Sequence[ColumnSpec],
        report: LoadReport,
        *,
        fence: Fence | None,
        retention: HistoryRetention,
        on_partition: OnPartition | None,
        log: Callable[[str], None] | None,
        before_first_write: WriteStep | None,
    ) -> None:
        self.warehouse = warehouse
        self.spec = spec
        self.resource = spec.name
        self.columns = columns
        self.report = report
        self.fence = fence
        self.retention = retention
        self.on_partition = on_partition
        self.log = log
        self.before_first_write = before_first_write
        self.pending: list[tuple[PartitionOutcome, WindowWrite]] = []
        # The one write under way (at most one: windows land in order), and what it lands.
        self.landing: tuple[list[tuple[PartitionOutcome, WindowWrite]], Future[_Landed]] | None = None
        self.executor: ThreadPoolExecutor | None = None  # set while the load runs
        self.finished = False  # `finish` ran

    def queue(self, outcome: PartitionOutcome, write: WindowWrite) -> None:
        """A completed window: it lands with the next write, now if enough is waiting."""
        self.pending.append((outcome, write))
        if self.flush_due():
            self.flush()

    def poll(self) -> None:
        """Between pages: report a write that is done (a write that failed stops the load now,
        not a window later), and hand over the windows that completed while it was under way."""
        if self.landing is not None and self.landing[1].done():
            self.landed()
            if self.flush_due():
                self.flush()

    def flush_due(self) -> bool:
        """Whether the pending windows should land now rather than wait for more."""
        pending = [w for _, w in self.pending]
        return any(w.staged is not None for w in pending) or sum(w.num_rows for w in pending) >= FLUSH_ROWS

    def flush(self, *, wait: bool = False, last: bool = False) -> None:
        """Hand the pending windows to the landing thread. While a write is under way they wait for it
        (the page loop hands them over once it is done) unless they hold more memory than
        `HELD_PART_BYTES` or the caller must `wait`: only then does the reading wait. The `last`
        write also does what `finish` does."""
        if self.landing is not None:
            held = sum(w.quarantine.nbytes + (w.rows.nbytes if w.rows is not None else 0) for _, w in self.pending)
            if not (wait or self.landing[1].done() or held > parts.HELD_PART_BYTES):
                return
            self.landed()
        if not self.pending:
            return
        # Newest first, as one cursor lands them: the load log's order does not depend on which
        # slice finished first.
        batch = sorted(self.pending, key=lambda pair: pair[0].window.start, reverse=True)
        self.pending.clear()
        before, self.before_first_write = self.before_first_write, None
        assert self.executor is not None, "windows land while the load runs"
        after = self.finish if last else None
        self.landing = (batch, self.executor.submit(self._land, [w for _, w in batch], before, after))

    def _land(self, writes: list[WindowWrite], before: WriteStep | None, after: WriteStep | None) -> _Landed:
        began = time.perf_counter()
        set_aside = self.warehouse.apply(
            self.spec, self.columns, QUARANTINE_COLUMNS, writes, fence=self.fence, before=before, after=after
        )
        return time.perf_counter() - began, set_aside

    def finish(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Once per load, after its last write: prune the versions beyond the retention and
        count the table's rows. A failure here leaves everything that landed as it is."""
        self.finished = True
        prune_and_count(conn, self.spec, self.retention, self.report)

    def landed(self, *, failing: bool = False) -> None:
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


def prune_and_count(
    conn: duckdb.DuckDBPyConnection, spec: StripeResource, retention: HistoryRetention, report: LoadReport
) -> None:
    """After a load's last write: prune versions beyond `retention` and count the table's rows.
    A failure is reported (`prune_error`), never raised: everything loaded has landed."""
    try:
        prune_history(conn, spec, keep=retention.keep_versions, keep_days=retention.keep_days)
    except Exception as exc:
        report.prune_error = first_line(exc)
    with contextlib.suppress(duckdb.Error):  # (no such table: no count, as `count_rows` says)
        report.table_rows = count(conn, f"SELECT count(*) FROM {spec.table}")


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
