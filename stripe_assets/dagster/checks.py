"""The `schema_validation` check's report (plain data from the data path) as Dagster's types."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from stripe_assets.ingest.validation.report import CheckReport, Markdown, MetadataValue


def metadata_value(value: MetadataValue) -> dg.MetadataValue:
    if isinstance(value, Markdown):
        return dg.MetadataValue.md(value.text)
    if isinstance(value, bool | int):
        return dg.MetadataValue.int(int(value))
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, dict):
        return dg.MetadataValue.json(value)
    return dg.MetadataValue.text(str(value))


def check_metadata(metadata: Mapping[str, MetadataValue]) -> dict[str, dg.MetadataValue]:
    return {name: metadata_value(value) for name, value in metadata.items()}


def severity(report: CheckReport) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if report.severity == "ERROR" else dg.AssetCheckSeverity.WARN


def check_result(check_name: str, report: CheckReport) -> dg.AssetCheckResult:
    """The result the asset yields for its own partition."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=report.passed,
        severity=severity(report),
        description=report.description,
        metadata=check_metadata(report.metadata),
    )
