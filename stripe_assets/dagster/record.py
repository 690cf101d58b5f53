"""What a run records in Dagster per partition: its materializations, oldest partition first, each
followed by its `schema_validation` evaluation aimed at that materialization.

The UI shows a partition's check status only while the check's newest evaluation targets the
partition's newest materialization; an evaluation logged by hand targets nothing unless told, and
a materialization logged after it (changes applied from events) leaves the partition "Missing".
So every evaluation logged here names the materialization it checked, and every change
materialization gets an evaluation of its own.
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
) -> None:
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
        context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=key,
                check_name=check_name,
                passed=passed,
                partition=record.partition,
                severity=severity,
                description=description,
                metadata=check.metadata,
                target_materialization_data=_target(context.instance, key, record.partition),
            )
        )


def _target(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's newest materialization (as Dagster aims a yielded result): the one just
    logged, or for a rejected load the earlier one whose rows the partition keeps."""
    found = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1)
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

