"""Connected accounts landed together: each account's objects are read on its own (with
`Stripe-Account`, several accounts at once), then every window is validated and written once for
all of them, in one transaction.

A platform has many connected accounts, most of them small: a load per account would cost a
warehouse transaction per account and window. Here an empty account costs one list request per
resource, and the warehouse sees one write per window whatever the number of accounts. A window
write replaces only the rows of the accounts that were read (`WindowWrite.accounts`): an account
that failed (403, a network error) keeps its rows, and is named in what the load returns.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets.ingest.keys import ACCOUNT_COLUMN
from stripe_assets.ingest.landing import WriteStep, prune_and_count
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, Window
from stripe_assets.ingest.prepare import OpenWindow, prepare_window, window_index
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.fence import read_fence


@dataclass
class _Fetched:
    account: str
    records: list[dict] = field(default_factory=list)
    observed: float | None = None  # the oldest answer's time (Stripe's clock)
    error: str | None = None


@dataclass
class ConnectedLoad:
    report: LoadReport
    failed: dict[str, str]  # account -> why it was not read (its rows stay as they were)
    read: list[str]


def load_connected(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeResource,
    windows: Sequence[Window],
    accounts: Sequence[str],
    options: LoadOptions,
    *,
    platform: str,
    account_writes: Mapping[str, WriteStep] | None = None,
) -> ConnectedLoad:
    """Read the resource `spec` declares in `windows` (consecutive) for every connected account,
    and land it, as `options` say (`concurrency`: accounts read at once).
    `account_writes`: more work per account (its changes and cursor), written with the windows
    for the accounts that were read only: one that failed keeps its cursor and starts over."""
    resource, columns, settings, run_id = spec.name, options.columns, options.settings, options.run_id
    warehouse.check_writable()
    fence = read_fence(warehouse, resource, run_id)
    report = LoadReport(resource, windows)
    began = time.time()
    start, end = windows[0].start, windows[-1].end

    def fetch(account: str) -> _Fetched:
        got = _Fetched(account)
        try:  # the shared stats count under their lock
            for page in reader.for_account(account).list_pages(spec, start, end, report.stats):
                got.records += page
                seen = reader.last_observed()
                if seen is not None:
                    got.observed = seen if got.observed is None else min(got.observed, seen)
        except StripeReadError as exc:
            got.error = redact(str(exc))
        return got

    fetching = time.perf_counter()
    with ThreadPoolExecutor(max(1, options.concurrency), thread_name_prefix=f"accounts-{resource}") as pool:
        fetched = list(pool.map(fetch, accounts))
    report.stats.seconds = time.perf_counter() - fetching
    failed = {f.account: f.error for f in fetched if f.error is not None}
    read = [f.account for f in fetched if f.error is None]
    if not read:
        return ConnectedLoad(report, failed, read)

    starts = [int(w.start.timestamp()) for w in windows]
    created_field = spec.created_field  # when Stripe created an object
    last = int(end.timestamp())
    by_window: list[list[dict]] = [[] for _ in windows]
    owner: dict[str, str] = {}
    opened = [OpenWindow() for _ in windows]
    for got in fetched:
        if got.error is not None:
            continue
        for record in got.records:
            index = window_index(record, starts, last, created_field)
            if index is None:
                report.outside_window += 1  # listed outside the asked range: not this load's
                continue
            record_id = record.get("id")
            if isinstance(record_id, str):
                if record_id in owner:  # listed twice (a page boundary moved): the first copy
                    continue
                owner[record_id] = got.account
            by_window[index].append(record)
            opened[index].saw([record_id], got.observed if got.observed is not None else began)

    writes, outcomes = [], []
    for index, window in enumerate(windows):
        outcome, write = prepare_window(
            spec, window, by_window[index], columns, settings, run_id, report, opened[index], began
        )
        by_window[index] = []
        rows = _stamped(write.rows, owner) if write.rows is not None else None
        write = dataclasses.replace(
            write, rows=rows, quarantine=_stamped(write.quarantine, owner), accounts=tuple(read), platform=platform
        )
        if options.describe is not None:
            outcome.details = options.describe(outcome)
        writes.append(write)
        outcomes.append(outcome)

    def after(conn: duckdb.DuckDBPyConnection) -> None:
        prune_and_count(conn, spec, options.retention, report)

    written = time.perf_counter()
    chosen = account_writes or {}
    steps = [chosen[a] for a in read if a in chosen]

    def before(conn: duckdb.DuckDBPyConnection) -> None:
        for step in steps:
            step(conn)

    set_aside = warehouse.apply(
        spec, columns, QUARANTINE_COLUMNS, writes, fence=fence, before=before if steps else None, after=after
    )
    report.write_seconds += time.perf_counter() - written
    report.left_to.update(set_aside)
    for outcome in outcomes:
        outcome.left_to = set_aside.get(outcome.window.key)
        report.outcomes.append(outcome)
        if options.on_partition is not None:
            options.on_partition(outcome, report)
    report.seconds = time.perf_counter() - report.began
    return ConnectedLoad(report, failed, read)


def _stamped(rows: pa.Table, owner: dict[str, str]) -> pa.Table:
    """`rows` with the account each id was read for."""
    accounts = [owner.get(i) if isinstance(i, str) else None for i in rows.column("id").to_pylist()]
    return rows.append_column(ACCOUNT_COLUMN, pa.array(accounts, pa.string()))
