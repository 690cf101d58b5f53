"""What a run records in Dagster per partition: its materializations, oldest partition first, each
followed by its `schema_validation` evaluation aimed at that materialization.

The UI shows a partition's check status only while the check's newest evaluation targets the
partition's newest materialization; an evaluation logged by hand targets nothing unless told, and
a materialization logged after it (changes applied from events) leaves the partition "Missing".
So every evaluation logged here names the materialization it checked, and every change
materialization gets an evaluation of its own.

The check's "Latest execution" is the evaluation Dagster stored last: the row with the highest id
in its check executions. The row of the run's own partition is made when the run is created (the
check is planned for it) and keeps that id when the result arrives; any other partition the run
evaluates (changes from events, partitions re-read) gets a new row after it. So a one-partition
run whose own partition is the newest also restates that result, unpartitioned, as its last
evaluation (`restate_newest`), as a ranged run ends with its summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus


@dataclass(frozen=True)
class PartitionRecord:
    """One partition's events of a run: a materialization and/or a check evaluation."""

    partition: str
    start: datetime  # recorded oldest first, so the asset's latest materialization is its newest partition
    changes_only: bool  # a partition updated from events: recorded before a load of the same partition
    materialization: dg.AssetMaterialization | None
    check: dg.AssetCheckResult | None  # None: the run yields this partition's result itself

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.start, 0 if self.changes_only else 1)


def record_partitions(
    context: dg.AssetExecutionContext, key: dg.AssetKey, check_name: str, records: Iterable[PartitionRecord]
) -> list[tuple[PartitionRecord, dg.AssetCheckEvaluation]]:
    """Log the records oldest first; the evaluations logged, each with its record."""
    logged = []
    for record in sorted(records, key=lambda r: r.order):
        if record.materialization is not None:
            context.log_event(record.materialization)
        check = record.check
        if check is None:
            continue
        passed, severity, description = check.passed, check.severity, check.description
        if record.changes_only and _newest_check_failed(context.instance, key, check_name, record.partition):
            # Changes applied to a partition whose newest load was rejected do not make it pass.
            passed, severity = False, dg.AssetCheckSeverity.ERROR
            description = f"the newest load of this partition was rejected; {description}"
        evaluation = dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=check_name,
            passed=passed,
            partition=record.partition,
            severity=severity,
            description=description,
            metadata=check.metadata,
            target_materialization_data=_target(context.instance, key, record.partition),
        )
        context.log_event(evaluation)
        logged.append((record, evaluation))
    return logged


def restate_newest(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    check_name: str,
    own: PartitionRecord,
    result: dg.AssetCheckResult,
    logged: list[tuple[PartitionRecord, dg.AssetCheckEvaluation]],
) -> None:
    """After a one-partition run yielded its `result`: when that partition is the newest the run
    evaluated and the run evaluated others too, the result again, as the check's latest execution
    (unpartitioned: the partition's own row is older than the others'; its partition named)."""
    others = [(r, e) for r, e in logged if r.partition != own.partition]
    if not others or max(r.order for r, _ in others) > own.order:
        return
    rows = ["| partition | result |", "|---|---|", f"| {own.partition} | {result.description} |"]
    rows += [f"| {r.partition} | {e.description} |" for r, e in sorted(others, key=lambda x: x[0].order, reverse=True)]
    context.log_event(
        dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=check_name,
            passed=result.passed,
            severity=result.severity,
            description=f"{own.partition} (the newest partition of this run): {result.description}",
            metadata={
                **result.metadata,
                "partition": own.partition,
                # The partitions the run evaluated (a summary: run alerts count the partitions' own).
                "per_partition": dg.MetadataValue.md("\n".join(rows)),
            },
            target_materialization_data=_target(context.instance, key, None),
        )
    )


def _target(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's newest materialization (as Dagster aims a yielded result): the one just
    logged, or for a rejected load the earlier one whose rows the partition keeps; without a
    partition, the asset's newest."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition is not None else None), limit=1
    )
    if not found.records:
        return None
    newest = found.records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=newest.storage_id, run_id=newest.run_id, timestamp=newest.timestamp
    )


def _newest_check_failed(instance: dg.DagsterInstance, key: dg.AssetKey, check_name: str, partition: str) -> bool:
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, check_name), limit=1, partition_filter=PartitionKeyFilter(key=partition)
    )
    return bool(history) and history[0].status == AssetCheckExecutionRecordStatus.FAILED
