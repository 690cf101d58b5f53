"""What a run of a dataflow's asset reports of its partitions as Dagster's check results: each
partition's `schema_validation` result, and a ranged run's summary of the whole range."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb

from stripe_assets.dagster.checks import check_result
from stripe_assets.dagster.metadata import run_metadata
from stripe_assets.dagster.resources import WarehouseResource
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import WarehouseError
from stripe_assets.ingest.warehouse.loads import count_rows
from stripe_assets.operations.dagster_record import partition_rows

CHECK_NAME = "schema_validation"
# Partitions whose fetch a run set aside because a newer run wrote them meanwhile -> that run.
LEFT_TO_KEY = "partitions_left_to_newer_runs"


def range_summary(report: LoadReport, settings: ValidationSettings, note: list[str]) -> dg.AssetCheckResult:
    rows = ["| partition | fetched | loaded | rejected | error rate | status |", "|---|---|---|---|---|---|"]
    ordered = sorted(report.outcomes, key=lambda o: o.window.start)
    # The UI shows this result unpartitioned (Partition "—") as the check's latest execution:
    # its description names the range, so the newest partition the run checked reads there.
    span = f"{ordered[0].window.key}...{ordered[-1].window.key}" if ordered else "no partition"
    for o in ordered:
        rows.append(
            f"| {o.window.key} | {o.records_total} | {o.records_loaded} | {o.records_rejected} "
            f"| {100 * o.error_rate:.2f}% | {'passed' if o.accepted else 'FAILED'}"
            + (f", left to run {o.left_to} |" if o.left_to else " |")
        )
    failed = len(report.failures)
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=(
            f"{span}: {len(report.outcomes)} partitions, {len(report.outcomes) - failed} passed, {failed} failed; "
            f"{report.records_rejected} of {report.records_fetched} records invalid"
        ),
        metadata=with_note(
            note,
            {
                "partition_range": span,
                "partitions": len(report.outcomes),
                "partitions_failed": failed,
                "records_fetched": report.records_fetched,
                "records_loaded": report.records_loaded,
                "records_rejected": report.records_rejected,
                "error_rate_pct": round(report.error_rate_pct, 4),
                "threshold_pct": settings.threshold_pct,
                "per_partition": dg.MetadataValue.md("\n".join(rows)),
                **run_metadata(report),
                **_left_to_metadata(report.left_to),
            },
        ),
    )


def _left_to_metadata(left_to: Mapping[str, str]) -> dict[str, Any]:
    """Which partitions the run set aside to which newer run (absent when none)."""
    if not left_to:
        return {}
    return {LEFT_TO_KEY: dg.MetadataValue.json(dict(sorted(left_to.items())))}


def _with_left_to(metadata: Mapping[str, Any], outcome: PartitionOutcome) -> dict[str, Any]:
    return {**metadata, **_left_to_metadata({outcome.window.key: outcome.left_to} if outcome.left_to else {})}


def check_of(outcome: PartitionOutcome) -> dg.AssetCheckResult:
    """The partition's check result, saying which newer run its fetch was left to (if it was)."""
    assert outcome.details is not None, "describe() made it"
    check = check_result(CHECK_NAME, outcome.details)
    if outcome.left_to is None:
        return check
    return dg.AssetCheckResult(
        check_name=check.check_name,
        passed=check.passed,
        severity=check.severity,
        description=check.description,
        metadata=_with_left_to(check.metadata, outcome),
    )


def with_note(note: list[str], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata, plus why loaded partitions were re-read (when they were)."""
    return {**metadata, "changes_fallback": note[0]} if note else dict(metadata)


def table_rows(warehouse: WarehouseResource, table: str) -> int | None:
    """Rows in the table now; None when it cannot be read (the load's own figures still show)."""
    try:
        with warehouse.warehouse().connect(read_only=True) as conn:
            return count_rows(conn, table)
    except (WarehouseError, duckdb.Error):
        return None


def rows_of_partitions(warehouse: WarehouseResource, resource: str, partitions: list[str]) -> dict[str, int] | None:
    """Rows the partitions hold now; None when they cannot be read (the change's figures still show)."""
    try:
        found = partition_rows(warehouse.warehouse(), resource, partitions)
    except (WarehouseError, duckdb.Error):
        return None
    return {p: n for p, n in found.items() if p is not None}
