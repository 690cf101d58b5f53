"""What the `schema_validation` asset check shows: metadata, a one-line description, severity."""

from __future__ import annotations

import dagster as dg

from stripe_assets.ingest.validation.decision import Decision, format_pct
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.validate import ValidationResult

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
) -> dict[str, dg.MetadataValue]:
    """Counts, rate and threshold always; failure and drift details only with diagnostics on."""
    loaded = result.records_valid if decision.accept else 0
    drift = result.drift
    metadata: dict[str, dg.MetadataValue] = {
        "records_fetched": dg.MetadataValue.int(result.records_total),
        "records_loaded": dg.MetadataValue.int(loaded),
        "records_rejected": dg.MetadataValue.int(result.records_invalid),
        "failures": dg.MetadataValue.int(sum(n for _, _, n, _ in result.failure_counts())),
        "error_rate_pct": dg.MetadataValue.float(round(decision.error_rate_pct, 4)),
        "threshold_pct": dg.MetadataValue.float(float(settings.threshold_pct)),
        "unknown_fields": dg.MetadataValue.int(len(drift.unknown_fields)),
        "unknown_enum_values": dg.MetadataValue.int(sum(len(v) for v in drift.unknown_enum_values.values())),
    }
    if not settings.diagnostics:
        return metadata
    metadata["failures_by_check"] = dg.MetadataValue.md(
        _table(("column", "check", "failures", "records"), result.failure_counts())
    )
    metadata["failures_sample"] = dg.MetadataValue.md(
        _table(
            ("id", "column", "check", "value", "reason"),
            [(f.id, f.column, f.check, f.value, f.reason) for f in result.failures[:SAMPLE_FAILURES]],
        )
    )
    metadata["drift_unknown_fields"] = dg.MetadataValue.json(dict(drift.unknown_fields))
    metadata["drift_unknown_enum_values"] = dg.MetadataValue.json(
        {column: dict(values) for column, values in drift.unknown_enum_values.items()}
    )
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


def check_severity(result: ValidationResult, decision: Decision) -> dg.AssetCheckSeverity:
    """ERROR when the batch is rejected; otherwise WARN (Dagster only shows it on failures, and a
    passing check with quarantined records or drift is worth a look, never an outage)."""
    return dg.AssetCheckSeverity.WARN if decision.accept else dg.AssetCheckSeverity.ERROR
