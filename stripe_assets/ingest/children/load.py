"""One child load end to end: parents from the warehouse → children → validation → warehouse.

Like `ingest/load.py` for a top-level resource, with the same options, report, validation,
quarantine, load-log row (`prepare.py`) and window replacement; only the reading differs
(`read.py`). A child partition's rows are replaced by `_parent_created` (the window of their
parent), so a child that no longer shows under its parent keeps its row, marked `_deleted_at`.
A partition's children are held in memory at once (a day's invoice lines are far fewer than its
balance transactions).

Small windows (two weeks of daily credit notes) share the warehouse's costs: the parents of
consecutive windows are read in one connection, and completed windows land together, one
transaction (one connection, one checkpoint) for up to `FLUSH_ROWS` rows, each window still
replacing exactly its own rows. A window that fails (its parents not loaded, Stripe refusing)
first lets the windows completed before it land.
"""

from __future__ import annotations

import contextlib
import dataclasses
import operator
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.child import StripeChild
from stripe_assets.ingest.children.read import Parent, children_of, parent_not_loaded, parents_of
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import Collections, collections_paused
from stripe_assets.ingest.columns import PARENT_CREATED, ColumnSpec
from stripe_assets.ingest.keys import ACCOUNT_COLUMN
from stripe_assets.ingest.landing import FLUSH_ROWS, prune_and_count
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome, Window
from stripe_assets.ingest.prepare import judge_window, load_record
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.routing import BATCH_RECORDS
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import Fence, left_to_newer_runs, read_fence

# Valid children an outcome keeps once its window is written (previews); the rest are released,
# so a long backfill does not hold every window's parsed children until it ends.
KEPT_RECORDS = 5
PARENT = "<parent>"  # the first step of the paths of the columns filled from the parent (`columns`)


def load_children(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeResource,
    windows: Sequence[Window],
    options: LoadOptions,
    *,
    platform: str | None = None,
    accounts: Sequence[str] | None = None,
) -> LoadReport:
    """Read and land the children of the parents of `windows`, one window after the other, as
    `options` say.

    `accounts`: read the children of these accounts' parents only, and replace only their rows
    (None: every parent, every row). `platform`: the key's own account (rows without an
    `account_id` are its). A connected account that cannot be read keeps its rows and is named
    in the report's `accounts_failed`; the others land."""
    assert isinstance(spec, StripeChild), f"{spec.name} is not a child list"
    if platform is None:  # the key's own account, its id unknown: every row, as before Connect
        accounts = None
    warehouse.check_writable()
    fence = read_fence(warehouse, spec.name, options.run_id)
    report = LoadReport(spec.name, windows)
    landing = _Landing(warehouse, spec, options, fence, report)
    with collections_paused():  # parsed children hold no cycles: see `collector`
        collections = Collections(every=BATCH_RECORDS)
        try:
            for window, parents in _parents_by_window(warehouse, spec, windows, platform, accounts):
                outcome, write, read = _read_window(reader, spec, window, parents, options, report, platform, accounts)
                del parents  # the parents' embedded children too: a collection walks none of them
                landing.add(outcome, write)
                collections.read += read
                if landing.rows >= FLUSH_ROWS:
                    landing.land()
                collections.window_done()  # the window's objects are gone: what cycles they left, freed
        except Exception:
            with contextlib.suppress(Exception):  # the first error is the one raised
                landing.land()
            raise
        landing.land(last=True)
    if not landing.finished:  # nothing landed last (no windows): prune and count on their own
        with warehouse.connect() as conn:
            prune_and_count(conn, spec, options.retention, report)
    report.seconds = time.perf_counter() - report.began
    return report


def _parents_by_window(
    warehouse: Warehouse,
    spec: StripeChild,
    windows: Sequence[Window],
    platform: str | None,
    accounts: Sequence[str] | None,
) -> Iterator[tuple[Window, list[Parent]]]:
    """Each window's parents, those of consecutive windows read in one connection (up to
    `FLUSH_ROWS` parents) that is closed before their children are read and written. A window
    whose parents are not loaded fails once the windows before it were handed on."""
    at = 0
    while at < len(windows):
        if not warehouse.exists():
            raise parent_not_loaded(spec, windows[at].key)
        group: list[tuple[Window, list[Parent]]] = []
        failed: Exception | None = None
        read = 0
        with warehouse.connect(read_only=True) as conn:
            while at < len(windows) and read < FLUSH_ROWS:
                window = windows[at]
                try:
                    parents = parents_of(
                        conn, spec, window.key, window.start, window.end, platform=platform, accounts=accounts
                    )
                except Exception as exc:
                    failed = exc
                    break
                group.append((window, parents))
                read += len(parents)
                at += 1
                del parents  # held by `group` alone, released as it is handed on
        group.reverse()
        while group:  # each window's parents released once it was read
            yield group.pop()
        if failed is not None:
            raise failed


def _read_window(
    reader: StripeReader,
    spec: StripeChild,
    window: Window,
    parents: list[Parent],
    options: LoadOptions,
    report: LoadReport,
    platform: str | None,
    accounts: Sequence[str] | None,
) -> tuple[PartitionOutcome, WindowWrite, int]:
    """One window's children, validated and turned into its write (and how many were read)."""
    resource, columns, settings, run_id = spec.name, options.columns, options.settings, options.run_id
    child = spec.child_of
    records: list[dict] = []
    parent_ids: list[str] = []
    parent_created: list[int] = []
    observed: list[datetime | None] = []
    owners: list[str | None] = []
    times: list[float] = []
    found_all = list(children_of(reader, child, parents, report.stats, options.concurrency, platform))
    failed = {f.parent.account: f.error for f in found_all if f.error is not None and f.parent.account}
    report.accounts_failed.update(failed)
    for found in found_all:
        if found.parent.account in failed:  # its rows stay as they were
            continue
        if found.as_of is not None:
            times.append(found.as_of)
        at = datetime.fromtimestamp(found.as_of, UTC) if found.as_of is not None else None
        count = len(found.objects)
        records += found.objects
        parent_ids += [found.parent.id] * count
        parent_created += [found.parent.created] * count
        observed += [at] * count
        owners += [found.parent.account or platform] * count
    del found_all
    validated = time.perf_counter()
    reads: dict[str, list] = {}  # the valid children's top-level values, read once for both
    # Judged on their own fields: the parent's columns are filled from the parent, not the
    # child (no child carries them, and one missing field stops the one-pass read).
    own = [c for c in columns if c.path[0] != PARENT]
    outcome = judge_window(spec, window, records, own, settings, reads=reads)
    result = outcome.result
    report.validate_seconds += time.perf_counter() - validated
    rows = None
    if outcome.accepted and result.valid:
        rows = _rows(
            result.valid, records, parent_ids, parent_created, observed, owners, columns, window.key, run_id,
            reads or None,
        )
    elif outcome.accepted:  # no children at all: the window is emptied (its rows marked deleted)
        rows = _rows([], [], [], [], [], [], columns, window.key, run_id)
    quarantine = quarantine_table(result, partition_key=window.key, run_id=run_id)
    if platform is not None:  # each rejected child with its parent's account
        quarantine = _with_owners(quarantine, records, owners)
    write = WindowWrite(
        partition=window.key,
        start=window.start,
        end=window.end,
        rows=rows,
        quarantine=quarantine,
        load_record=load_record(resource, outcome, settings, run_id),
        keeps_deleted=True,  # a child gone from its parent keeps its row, marked deleted
        # The oldest state read (Stripe's clock): rows newer than it stay (None: no parents).
        observed_at=datetime.fromtimestamp(min(times), UTC) if times else None,
        window_column=PARENT_CREATED,
        # Only the accounts read replace their rows (None: every row, as before Connect).
        accounts=None if accounts is None or platform is None else tuple(a for a in accounts if a not in failed),
        platform=platform,
    )
    if options.describe is not None:
        outcome.details = options.describe(outcome)
    if options.log is not None:
        options.log(f"{resource} {window.key}: {len(records)} children of {len(parents)} {child.parent}")
    # Only the Arrow batch travels on: release the parsed children now.
    outcome.result = dataclasses.replace(result, valid=result.valid[:KEPT_RECORDS], invalid=[])
    return outcome, write, len(records)


class _Landing:
    """The windows read and not yet written, landed together in one transaction."""

    def __init__(
        self, warehouse: Warehouse, spec: StripeChild, options: LoadOptions, fence: Fence, report: LoadReport
    ) -> None:
        self.warehouse, self.spec, self.options, self.fence, self.report = warehouse, spec, options, fence, report
        self.pending: list[tuple[PartitionOutcome, WindowWrite]] = []
        self.rows = 0
        self.finished = False  # the last write pruned and counted

    def add(self, outcome: PartitionOutcome, write: WindowWrite) -> None:
        self.pending.append((outcome, write))
        self.rows += write.num_rows

    def land(self, *, last: bool = False) -> None:
        """Write the pending windows (the `last` write also prunes and counts the table)."""
        if not self.pending:
            return
        batch, self.pending, self.rows = self.pending, [], 0
        options, report = self.options, self.report
        after = self._finish if last else None
        writing = time.perf_counter()
        set_aside = self.warehouse.apply(
            self.spec, options.columns, QUARANTINE_COLUMNS, [w for _, w in batch], fence=self.fence, after=after
        )
        report.write_seconds += time.perf_counter() - writing
        if set_aside:
            report.left_to.update(set_aside)
            if options.log is not None:
                options.log(left_to_newer_runs(self.spec.name, set_aside))
        for outcome, _ in batch:
            outcome.left_to = set_aside.get(outcome.window.key)
            report.outcomes.append(outcome)
            if options.on_partition is not None:
                options.on_partition(outcome, report)

    def _finish(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.finished = True
        prune_and_count(conn, self.spec, self.options.retention, self.report)


def _rows(
    valid: list[dict],
    records: list[dict],
    parent_ids: list[str],
    parent_created: list[int],
    observed: list[datetime | None],
    owners: list[str | None],
    columns: Sequence[ColumnSpec],
    key: str,
    run_id: str,
    tops: dict[str, list] | None = None,
) -> pa.Table:
    """The valid children as rows, each with its parent's id and `created` (the objects' own
    fields and `raw` stay exactly as Stripe listed them). `tops`: the valid children's top-level
    values as validation read them."""
    if len(valid) == len(records) and all(map(operator.is_, valid, records)):
        picks: Sequence[int] = range(len(records))  # every child valid (the usual case)
    else:
        where: dict[object, int] = {}
        for n, record in enumerate(records):
            where.setdefault(record.get("id"), n)
        picks = [where[r.get("id")] for r in valid]
    table = to_arrow(
        valid, columns, partition_of=lambda _: key, run_id=run_id, loaded_at=datetime.now(UTC),
        observed_at=[observed[n] for n in picks], tops=tops,
    )
    for spec in columns:
        if spec.path == (PARENT, "id"):
            values = pa.array([parent_ids[n] for n in picks], pa.string())
        elif spec.path == (PARENT, "created"):
            values = pa.array([parent_created[n] for n in picks], pa.int64()).cast(pa.timestamp("s", tz="UTC"))
        else:
            continue
        table = table.set_column(table.schema.get_field_index(spec.name), spec.name, values)
    return table.append_column(ACCOUNT_COLUMN, pa.array([owners[n] for n in picks], pa.string()))


def _with_owners(quarantine: pa.Table, records: list[dict], owners: list[str | None]) -> pa.Table:
    """Quarantine rows with the account of the parent their record was listed under."""
    owner: dict[str, str | None] = {}
    for record, account in zip(records, owners, strict=True):
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            owner.setdefault(record["id"], account)
    ids = quarantine.column("id").to_pylist()
    return quarantine.append_column(ACCOUNT_COLUMN, pa.array([owner.get(i) if i else None for i in ids], pa.string()))
