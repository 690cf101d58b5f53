"""What the `schema_validation` asset check shows: metadata, a one-line description, severity.

Plain data: the Dagster layer (`stripe_assets.dagster.checks`) turns it into an asset check result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from stripe_assets.ingest.validation.decision import Decision, format_pct
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.validate import ValidationResult


@dataclass(frozen=True)
class Markdown:
    """A metadata value shown as markdown (a table), not as plain text."""

    text: str


# A check's metadata value: a count, a rate, a markdown table or a JSON-shaped mapping.
MetadataValue = int | float | str | Markdown | dict[str, Any]
Severity = Literal["WARN", "ERROR"]


@dataclass(frozen=True)
class CheckReport:
    """One partition's `schema_validation` result."""

    passed: bool
    severity: Severity
    description: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


SAMPLE_FAILURES = 20  # failures listed one by one in the metadata
CELL_CHARS = 80  # longest value shown in a markdown cell


def _cell(text: object) -> str:
    value = "" if text is None else str(text)
    if len(value) > CELL_CHARS:
        value = value[: CELL_CHARS - 3] + "..."
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def check_metadata(
    result: ValidationResult, decision: Decision, settings: ValidationSettings
) -> dict[str, MetadataValue]:
    """Counts, rate and threshold always; failure and drift details only with diagnostics on."""
    loaded = result.records_valid if decision.accept else 0
    drift = result.drift
    metadata: dict[str, MetadataValue] = {
        "records_fetched": result.records_total,
        "records_loaded": loaded,
        "records_rejected": result.records_invalid,
        "failures": sum(n for _, _, n, _ in result.failure_counts()),
        "error_rate_pct": float(round(decision.error_rate_pct, 4)),
        "threshold_pct": float(settings.threshold_pct),
        "unknown_fields": len(drift.unknown_fields),
        "unknown_enum_values": sum(len(v) for v in drift.unknown_enum_values.values()),
    }
    if not settings.diagnostics:
        return metadata
    metadata["failures_by_check"] = Markdown(
        _table(("column", "check", "failures", "records"), result.failure_counts())
    )
    metadata["failures_sample"] = Markdown(
        _table(
            ("id", "column", "check", "value", "reason"),
            [(f.id, f.column, f.check, f.value, f.reason) for f in result.failures[:SAMPLE_FAILURES]],
        )
    )
    metadata["drift_unknown_fields"] = dict(drift.unknown_fields)
    metadata["drift_unknown_enum_values"] = {
        column: dict(values) for column, values in drift.unknown_enum_values.items()
    }
    return metadata


def check_description(result: ValidationResult, decision: Decision) -> str:
    """One line for the check result: the decision's message when rejected, else a summary."""
    if not decision.accept:
        return decision.message
    invalid = result.records_invalid
    text = f"{result.records_total} records: {result.records_valid} valid"
    if invalid:
        text += (
            f", {invalid} quarantined ({format_pct(decision.error_rate_pct)}, "
            f"within the {format_pct(decision.threshold_pct)} threshold)"
        )
    drift = result.drift
    if drift:
        parts = []
        if drift.unknown_fields:
            parts.append(f"unknown fields {', '.join(drift.unknown_fields)}")
        if drift.unknown_enum_values:
            parts.append(
                "unknown enum values "
                + ", ".join(f"{c}={v}" for c, values in drift.unknown_enum_values.items() for v in values)
            )
        text += "; schema drift: " + "; ".join(parts)
    return text


def check_severity(result: ValidationResult, decision: Decision) -> Severity:
    """ERROR when the batch is rejected; otherwise WARN (Dagster only shows it on failures, and a
    passing check with quarantined records or drift is worth a look, never an outage)."""
    return "WARN" if decision.accept else "ERROR"


def check_report(result: ValidationResult, decision: Decision, settings: ValidationSettings) -> CheckReport:
    """The whole check result of one partition."""
    return CheckReport(
        passed=decision.accept,
        severity=check_severity(result, decision),
        description=check_description(result, decision),
        metadata=check_metadata(result, decision, settings),
    )
