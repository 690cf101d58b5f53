"""Rollback: return a table and its quarantine to exactly their state before a load.

Each load of partition P by run R moved the rows it displaced into `stripe_history` (tagged
`_replaced_by_run = R`, `_replaced_partition = P`) and wrote rows tagged `_run_id = R`. Undoing
it deletes R's rows of P, puts the displaced rows back and removes them from history. Loads of a
partition are undone newest first, down to the chosen one, in one transaction; each undone load
gets a `rolled_back` row in `stripe_meta.loads`, so it is never undone twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.config import Dataflow
from stripe_assets.ingest.changes.cursor import rewind_cursor
from stripe_assets.ingest.warehouse import HISTORY_COLUMNS, LOADS_TABLE, Warehouse, history_table
from stripe_assets.ingest.warehouse.history import pruned_through
from stripe_assets.ingest.warehouse.loads import CHANGED, LOADED, ROLLED_BACK, PartitionLoad, count, partition_loads
from stripe_assets.operations.errors import FAILED, OperationError
from stripe_assets.operations.targets import check_partition_key, resource_named
from stripe_assets.operations.text import fmt_count, fmt_time, partitions_label


@dataclass(frozen=True)
class RollbackRequest:
    """What to undo: one run's loads (`run_id`, a unique prefix works) or the newest `steps`
    runs (1 when neither is given); `partition` limits it to one partition."""

    resource: str
    run_id: str | None = None
    steps: int | None = None
    partition: str | None = None

    def __post_init__(self) -> None:
        resource_named(self.resource)
        if self.run_id is not None and self.steps is not None:
            raise OperationError("give either a run id or a number of steps, not both")
        if self.run_id is not None and not self.run_id.strip():
            raise OperationError("the run id is empty")
        if self.steps is not None and self.steps < 1:
            raise OperationError(f"steps must be at least 1, got {self.steps}")


@dataclass(frozen=True)
class PartitionUndo:
    partition: str
    undo: tuple[PartitionLoad, ...]  # newest first; all of them are undone
    back_to: PartitionLoad | None  # the load in effect afterwards; None: as before any load


@dataclass(frozen=True)
class RollbackPlan:
    resource: str
    partitions: tuple[PartitionUndo, ...]

    @property
    def loads(self) -> list[PartitionLoad]:
        return [load for part in self.partitions for load in part.undo]

    @property
    def run_ids(self) -> list[str]:
        """The runs whose loads are undone, newest first."""
        ordered = sorted(self.loads, key=lambda load: load.loaded_at, reverse=True)
        return list(dict.fromkeys(load.run_id for load in ordered))

    def describe(self) -> str:
        loads, parts = len(self.loads), len(self.partitions)
        lines = [
            f"Rollback of {self.resource}: {loads} load{'s' * (loads != 1)} of "
            f"{parts} partition{'s' * (parts != 1)} by {len(self.run_ids)} run{'s' * (len(self.run_ids) != 1)}"
        ]
        for part in self.partitions:
            label = part.partition
            for load in part.undo:
                lines.append(f"  {label:<16} undo     {_load_line(load)}")
                label = ""
            after = f"run {_load_line(part.back_to)}" if part.back_to else "nothing: as before its first load"
            lines.append(f"  {'':<16} back to  {after}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RollbackResult:
    plan: RollbackPlan
    at: datetime
    rows_removed: int
    rows_restored: int
    quarantine_removed: int
    quarantine_restored: int

    def summary(self) -> str:
        spec = get_resource(self.plan.resource)
        loads = len(self.plan.loads)
        return (
            f"Rolled back {loads} load{'s' * (loads != 1)} of {self.plan.resource} "
            f"({partitions_label([p.partition for p in self.plan.partitions])}): "
            f"{spec.table} {self.rows_removed:,} rows removed, {self.rows_restored:,} restored; "
            f"{spec.quarantine_table} {self.quarantine_removed:,} rows removed, "
            f"{self.quarantine_restored:,} restored. Recorded in {LOADS_TABLE} as {ROLLED_BACK}."
        )


def _load_line(load: PartitionLoad) -> str:
    if load.status == LOADED:
        figures = f"{fmt_count(load.records_loaded)} rows, {fmt_count(load.records_rejected)} quarantined"
    elif load.status == CHANGED:
        figures = f"{fmt_count(load.records_loaded)} rows changed, {fmt_count(load.records_rejected)} quarantined"
    else:
        figures = f"{fmt_count(load.records_rejected)} of {fmt_count(load.records_fetched)} records invalid"
    return f"{load.run_id}  {load.status:<8} {fmt_time(load.loaded_at)}  ({figures})"


# --- planning ------------------------------------------------------------------------------


def _runs_newest_first(loads: list[PartitionLoad]) -> list[str]:
    return list(dict.fromkeys(load.run_id for load in loads))  # `loads` is newest first


def _match_run(request: RollbackRequest, scope: list[PartitionLoad], every: list[PartitionLoad]) -> str:
    text = request.run_id or ""
    runs = _runs_newest_first(scope)
    matches = [r for r in runs if r == text] or [r for r in runs if r.startswith(text)]
    if len(matches) > 1:
        raise OperationError(f"run id {text!r} is ambiguous: it starts {', '.join(matches[:5])}")
    if not matches:
        elsewhere = sorted({load.partition for load in every if load.run_id.startswith(text)})
        if request.partition and elsewhere:
            raise OperationError(
                f"run {text} did not load partition {request.partition} of {request.resource} "
                f"(it loaded {partitions_label(elsewhere)})"
            )
        newest = ", ".join(_runs_newest_first(every)[:3])
        raise OperationError(f"no load of {request.resource} by run {text} (newest runs: {newest})")
    run_id = matches[0]
    if not any(load.active for load in scope if load.run_id == run_id):
        when = max(load.rolled_back_at for load in scope if load.run_id == run_id and load.rolled_back_at)
        raise OperationError(
            f"the loads of {request.resource} by run {run_id} were already rolled back at {fmt_time(when)} UTC"
        )
    return run_id


def plan_rollback(conn: duckdb.DuckDBPyConnection, request: RollbackRequest) -> RollbackPlan:
    """Which loads to undo, newest first per partition; raises OperationError when impossible."""
    resource = request.resource
    every = partition_loads(conn, resource)
    if not every:
        raise OperationError(f"nothing to roll back: {resource} has no loads in the warehouse")
    scope = [load for load in every if request.partition is None or load.partition == request.partition]
    where = f"partition {request.partition} of {resource}" if request.partition else resource
    if not scope:
        raise OperationError(
            f"partition {request.partition} of {resource} was never loaded "
            f"(loaded partitions: {partitions_label([load.partition for load in every])})"
        )
    active = [load for load in scope if load.active]
    if request.run_id is not None:
        chosen = {_match_run(request, scope, every)}
    else:
        steps = request.steps or 1
        runs = _runs_newest_first(active)
        if len(runs) < steps:
            have = f"{len(runs)} run{'s' * (len(runs) != 1)}" if runs else "no runs"
            raise OperationError(f"{where} has {have} whose loads can be rolled back, not {steps}")
        chosen = set(runs[:steps])

    stacks: dict[str, list[PartitionLoad]] = {}
    for load in active:  # newest first
        stacks.setdefault(load.partition, []).append(load)
    parts = []
    for partition in sorted(stacks):
        stack = stacks[partition]
        hits = [i for i, load in enumerate(stack) if load.run_id in chosen]
        if not hits:
            continue
        cut = hits[-1]  # the oldest chosen load: it and everything newer is undone
        kept = stack[cut + 1] if cut + 1 < len(stack) else None
        parts.append(PartitionUndo(partition, tuple(stack[: cut + 1]), kept))
    plan = RollbackPlan(resource, tuple(parts))
    _check_history_kept(conn, plan)
    _check_newest_in_effect(conn, plan)
    return plan


def _check_history_kept(conn: duckdb.DuckDBPyConnection, plan: RollbackPlan) -> None:
    pruned = pruned_through(conn, plan.resource)
    for part in plan.partitions:
        limit = pruned.get(part.partition)
        oldest = part.undo[-1]
        if limit is not None and oldest.loaded_at <= limit:
            raise OperationError(
                f"cannot roll back run {oldest.run_id} in partition {part.partition} of {plan.resource}: "
                f"the versions before {fmt_time(limit)} UTC were pruned by the history retention",
                exit_code=FAILED,
            )


def _check_newest_in_effect(conn: duckdb.DuckDBPyConnection, plan: RollbackPlan) -> None:
    """The newest load of each partition must be what the tables hold; otherwise undoing it
    would not give back an exact earlier state (rows changed outside loads)."""
    spec = get_resource(plan.resource)
    for part in plan.partitions:
        newest = part.undo[0]
        if newest.status == CHANGED:
            continue  # it rewrote only the rows that changed: the others are older loads'
        tables = [spec.quarantine_table] + ([spec.table] if newest.status == LOADED else [])
        for table in tables:
            stray = count(
                conn,
                f"SELECT count(*) FROM {table} WHERE _partition = ? AND _run_id IS DISTINCT FROM ?",
                [part.partition, newest.run_id],
            )
            if stray:
                raise OperationError(
                    f"{table} holds {stray} row(s) of partition {part.partition} not written by its "
                    f"newest load (run {newest.run_id}): the table changed outside the loads, so a "
                    "rollback cannot restore an exact earlier state; nothing was changed",
                    exit_code=FAILED,
                )


# --- applying ------------------------------------------------------------------------------

_HISTORY_ONLY = ", ".join(HISTORY_COLUMNS)


def _changed(result: duckdb.DuckDBPyConnection) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0


def _undo_load(conn: duckdb.DuckDBPyConnection, resource: str, load: PartitionLoad, at: datetime) -> Counter:
    spec = get_resource(resource)
    counts: Counter = Counter()
    key = [load.partition, load.run_id]
    for name, table, history in (
        ("rows", spec.table, history_table(resource)),
        ("quarantine", spec.quarantine_table, history_table(resource, quarantine=True)),
    ):
        counts[f"{name}_removed"] += _changed(
            conn.execute(f"DELETE FROM {table} WHERE _partition = ? AND _run_id = ?", key)
        )
        # Rows the run itself wrote earlier (a partition written twice by one run) are not
        # the state before the run: only what other runs wrote goes back.
        counts[f"{name}_restored"] += _changed(
            conn.execute(
                f"""INSERT INTO {table} BY NAME
                    SELECT * EXCLUDE ({_HISTORY_ONLY}) FROM {history}
                    WHERE _replaced_partition = ? AND _replaced_by_run = ? AND _run_id IS DISTINCT FROM ?""",
                [*key, load.run_id],
            )
        )
        conn.execute(f"DELETE FROM {history} WHERE _replaced_partition = ? AND _replaced_by_run = ?", key)
    conn.execute(
        f"""INSERT INTO {LOADS_TABLE} (resource, partition, window_start, window_end, run_id, status, loaded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [resource, load.partition, load.window_start, load.window_end, load.run_id, ROLLED_BACK, at],
    )
    return counts


def execute_rollback(
    conn: duckdb.DuckDBPyConnection,
    request: RollbackRequest,
    *,
    expected: RollbackPlan | None = None,
    at: datetime | None = None,
) -> RollbackResult:
    """Plan and undo in one transaction; with `expected` (the plan a user confirmed), refuse if
    the loads changed in between."""
    at = at or datetime.now(UTC)
    conn.execute("BEGIN TRANSACTION")
    try:
        plan = plan_rollback(conn, request)
        if expected is not None and plan != expected:
            raise OperationError(
                f"the loads of {request.resource} changed since the rollback was planned; "
                "nothing was changed: run it again",
                exit_code=FAILED,
            )
        counts: Counter = Counter()
        for part in plan.partitions:
            for load in part.undo:
                counts += _undo_load(conn, plan.resource, load, at)
        # What the undone runs applied from Stripe's events is read again by the next load.
        rewind_cursor(conn, plan.resource, plan.run_ids)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return RollbackResult(
        plan,
        at,
        rows_removed=counts["rows_removed"],
        rows_restored=counts["rows_restored"],
        quarantine_removed=counts["quarantine_removed"],
        quarantine_restored=counts["quarantine_restored"],
    )


def run_rollback(
    warehouse: Warehouse,
    request: RollbackRequest,
    *,
    dataflow: Dataflow | None = None,
    confirm: Callable[[RollbackPlan], bool] | None = None,
) -> RollbackResult | None:
    """Check the request, let `confirm` see the plan (None: no confirmation), then undo.

    Returns None when `confirm` declined. The plan is shown from a read-only connection, so
    loads are not held up while a person answers.
    """
    if request.partition is not None:
        check_partition_key(dataflow, request.partition)
    if not warehouse.exists():
        raise OperationError(f"no warehouse at {warehouse}: nothing to roll back")
    expected = None
    if confirm is not None:
        with warehouse.connect(read_only=True) as conn:
            expected = plan_rollback(conn, request)
        if not confirm(expected):
            return None
    with warehouse.connect() as conn:
        return execute_rollback(conn, request, expected=expected)
