"""One child load end to end: parents from the warehouse → children → validation → warehouse.

Like `ingest/load.py` for a top-level resource, with the same options, report, validation,
quarantine, load-log row (`prepare.py`) and window replacement; only the reading differs
(`read.py`). A child partition's rows are replaced by `_parent_created` (the window of their
parent), so a child that no longer shows under its parent keeps its row, marked `_deleted_at`.
A partition's children are held in memory at once (a day's invoice lines are far fewer than its
balance transactions).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.child import StripeChild
from stripe_assets.ingest.children.read import children_of, parent_not_loaded, parents_of
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.collector import collections_paused
from stripe_assets.ingest.columns import PARENT_CREATED, ColumnSpec
from stripe_assets.ingest.keys import ACCOUNT_COLUMN
from stripe_assets.ingest.landing import prune_and_count
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, Window
from stripe_assets.ingest.prepare import judge_window, load_record
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_table
from stripe_assets.ingest.warehouse import Warehouse, WindowWrite
from stripe_assets.ingest.warehouse.fence import Fence, left_to_newer_runs, read_fence


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
    with collections_paused():  # parsed children hold no cycles: see `collector`
        for window in windows:
            _load_window(reader, warehouse, spec, window, options, fence, report, platform, accounts)
            gc.collect()  # the window's objects are gone: what cycles they left, freed here
    with warehouse.connect() as conn:
        prune_and_count(conn, spec, options.retention, report)
    report.seconds = time.perf_counter() - report.began
    return report


def _load_window(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeChild,
    window: Window,
    options: LoadOptions,
    fence: Fence,
    report: LoadReport,
    platform: str | None,
    accounts: Sequence[str] | None,
) -> None:
    """Read one window's children and land them (its objects are released when it returns)."""
    resource, columns, settings, run_id, log = spec.name, options.columns, options.settings, options.run_id, options.log
    child = spec.child_of
    if not warehouse.exists():
        raise parent_not_loaded(spec, window.key)
    with warehouse.connect(read_only=True) as conn:
        parents = parents_of(conn, spec, window.key, window.start, window.end, platform=platform, accounts=accounts)
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
        for obj in found.objects:
            records.append(obj)
            parent_ids.append(found.parent.id)
            parent_created.append(found.parent.created)
            observed.append(at)
            owners.append(found.parent.account or platform)
    validated = time.perf_counter()
    outcome = judge_window(spec, window, records, columns, settings)
    result = outcome.result
    report.validate_seconds += time.perf_counter() - validated
    rows = None
    if outcome.accepted and result.valid:
        rows = _rows(
            result.valid, records, parent_ids, parent_created, observed, owners, columns, window.key, run_id
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
    writing = time.perf_counter()
    set_aside = warehouse.apply(spec, columns, QUARANTINE_COLUMNS, [write], fence=fence)
    report.write_seconds += time.perf_counter() - writing
    if set_aside:
        report.left_to.update(set_aside)
        if log is not None:
            log(left_to_newer_runs(resource, set_aside))
    outcome.left_to = set_aside.get(window.key)
    report.outcomes.append(outcome)
    if log is not None:
        log(f"{resource} {window.key}: {len(records)} children of {len(parents)} {child.parent}")
    if options.on_partition is not None:
        options.on_partition(outcome, report)


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
) -> pa.Table:
    """The valid children as rows, each with its parent's id and `created` (the objects' own
    fields and `raw` stay exactly as Stripe listed them)."""
    where: dict[object, int] = {}
    for n, record in enumerate(records):
        where.setdefault(record.get("id"), n)
    picks = [where[r.get("id")] for r in valid]
    table = to_arrow(
        valid, columns, partition_of=lambda _: key, run_id=run_id, loaded_at=datetime.now(UTC),
        observed_at=[observed[n] for n in picks],
    )
    for spec in columns:
        if spec.path == ("<parent>", "id"):
            values = pa.array([parent_ids[n] for n in picks], pa.string())
        elif spec.path == ("<parent>", "created"):
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
