"""The asset's side of keeping loaded rows current: which extra partitions a run loads, the
changes it lands first, and what it shows in Dagster (per-partition materializations with
`rows_updated` / `rows_deleted` and a check evaluation, an observation and a log line with the
run's figures per resource, one short run tag saying the run changed loaded rows, the fallback
note)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta

import dagster as dg

from stripe_assets.dagster.metadata import partition_figures
from stripe_assets.dagster.record import PartitionRecord
from stripe_assets.dataflows.models import Dataflow
from stripe_assets.dataflows.partitions import time_model, window_of
from stripe_assets.ingest.changes.cursor import Cursor
from stripe_assets.ingest.changes.settle import SettlePlan, plan_settling
from stripe_assets.ingest.changes.sync import ChangePlan, plan_changes
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse

# The one run tag of a run that changed loaded rows or re-read partitions, whatever the number of
# resources: its value is the same from every step (steps run at once and each adds run tags, so
# a value summing the resources would keep only the last step's). The figures per resource are in
# the run log, the observation and the change materializations.
CHANGES_TAG = "stripe_assets/changes"
CHANGES_TAG_VALUE = "applied"
SETTLING_TAG_PREFIX = "stripe_assets/settling_"


def partition_window(dataflow: Dataflow):
    """`created` (Unix seconds) → the dataflow's partition Window, or None before the first."""

    def find(created: int) -> Window | None:
        found = window_of(dataflow, created)
        return Window(*found) if found else None

    return find


def lookback_windows(dataflow: Dataflow, now: datetime | None = None) -> list[Window]:
    """The last `lookback` closed partitions at `now` (changes: lookback)."""
    count = dataflow.changes.lookback or 0
    model = time_model(dataflow)
    step = model.length
    open_start = model.window_start(now or datetime.now(UTC))
    windows = []
    for back in range(count, 0, -1):
        start = open_start - back * step
        found = window_of(dataflow, int(start.timestamp()))
        if found is not None:
            windows.append(Window(*found))
    return windows


def plan_for(
    dataflow: Dataflow,
    reader: StripeReader,
    warehouse: Warehouse,
    run_id: str,
    *,
    account: str | None = None,
    new_account: bool = False,
    owner: str | None = None,
    state: tuple[Cursor | None, list[Window]] | None = None,
) -> ChangePlan | None:
    """Read the changes since the cursor (changes: events), before anything is loaded; for a
    connected `account`, its own events since its own cursor."""
    if dataflow.changes.mode != "events":
        return None
    horizon = dataflow.changes.horizon_days
    return plan_changes(
        reader,
        warehouse,
        dataflow.declaration,
        columns=dataflow.columns(),
        window_of=partition_window(dataflow),
        run_id=run_id,
        strict_enums=dataflow.validation.strict_enums,
        horizon=timedelta(days=horizon) if horizon is not None else None,
        account=account,
        new_account=new_account,
        owner=owner,
        state=state,
    )


def settle_for(dataflow: Dataflow, warehouse: Warehouse) -> SettlePlan | None:
    """The loaded partitions holding rows that settled since they were read (whatever `changes`);
    only partitions of the dataflow as it is now (a partition it no longer has cannot be logged)."""
    settle = plan_settling(warehouse, dataflow.declaration, dataflow.columns())
    if settle is not None:
        find = partition_window(dataflow)
        settle.reread = [w for w in settle.reread if find(int(w.start.timestamp())) == w]
    return settle


def extra_windows(dataflow: Dataflow, plan: ChangePlan | None, settle: SettlePlan | None = None) -> list[Window]:
    """Partitions the run loads besides its own: the re-read ones, or the lookback, and those
    holding rows that settled."""
    extra = list(settle.reread) if settle is not None else []
    if plan is not None:
        return list(plan.reread) + extra
    if dataflow.changes.mode == "lookback":
        return lookback_windows(dataflow) + extra
    return extra


def report_settling(context: dg.AssetExecutionContext, key: dg.AssetKey, settle: SettlePlan) -> None:
    """What was re-read because rows settled: the run log, an observation and a run tag."""
    if settle.note is None:
        return
    context.log.info(settle.note)
    context.log_event(dg.AssetObservation(asset_key=key, metadata=settle.metadata()))
    figures = f"rows due {settle.rows_due}, partitions reread {len(settle.reread)}"
    context.instance.add_run_tags(context.run.run_id, {f"{SETTLING_TAG_PREFIX}{settle.resource}": figures})


def change_records(
    key: dg.AssetKey,
    plan: ChangePlan,
    start_of: Callable[[str], datetime],
    valid_keys: Collection[str],
    table_rows: int | None,
    partition_rows: Mapping[str, int] | None = None,
) -> list[PartitionRecord]:
    """One materialization per partition whose rows changed, with the table's rows after the run
    (so the asset's row count stays shown) and a check evaluation of the new states it validated.
    It carries a load's figures under a load's keys (the partition's rows, the changed objects as
    records fetched / loaded / quarantined), so the plots of a partition changed last stay drawn."""
    written = plan.written
    if written is None:
        return []
    records = []
    for part in written.partitions.values():
        if not part.any or part.partition not in valid_keys:
            continue
        said = f"{part.rows_updated} rows updated, {part.rows_deleted} deleted from Stripe's events"
        figures = {
            "rows_updated": part.rows_updated,
            "rows_deleted": part.rows_deleted,
            "rows_rejected": part.rows_rejected,
        }
        metadata: dict[str, dg.RawMetadataValue] = {
            **partition_figures(
                fetched=part.rows_updated + part.rows_deleted + part.rows_rejected,
                loaded=part.rows_updated + part.rows_deleted,
                rejected=part.rows_rejected,
                partition_rows=(partition_rows or {}).get(part.partition),
                table_rows=table_rows,
            ),
            "rows_updated": dg.MetadataValue.int(part.rows_updated),
            "rows_deleted": dg.MetadataValue.int(part.rows_deleted),
        }
        rejected = (
            f"; {part.rows_rejected} new states failed validation (quarantined, the rows keep their previous state)"
            if part.rows_rejected
            else ""
        )
        check = dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"changes validated: {said}{rejected}",
            metadata=figures,
        )
        records.append(
            PartitionRecord(
                part.partition,
                start_of(part.partition),
                changes_only=True,
                materialization=dg.AssetMaterialization(
                    asset_key=key, partition=part.partition, description=said, metadata=metadata
                ),
                check=check,
            )
        )
    return records


def report_change_figures(context: dg.AssetExecutionContext, key: dg.AssetKey, plan: ChangePlan) -> None:
    """The run's figures in an observation (with the fallback note, which the run's alert repeats)
    and the run log, and the run's one changes tag when rows changed or partitions were re-read."""
    figures = plan.metadata()
    context.log_event(dg.AssetObservation(asset_key=key, metadata=figures))
    summary = ", ".join(
        f"{name.removeprefix('changes_').replace('_', ' ')} {value}"
        for name, value in figures.items()
        if isinstance(value, int)
    )
    written = plan.written
    if plan.reread or (written is not None and any(p.any for p in written.partitions.values())):
        context.instance.add_run_tags(context.run.run_id, {CHANGES_TAG: CHANGES_TAG_VALUE})
    context.log.info(f"{plan.resource} changes: {summary}")
