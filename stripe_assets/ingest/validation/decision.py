"""Partial ingestion: load a batch's valid records, or fail the batch, by its error rate.

    error rate <= threshold          -> accept (the valid records load, the invalid are quarantined)
    error rate >  threshold          -> reject (nothing loads)
    partial ingestion off, any error -> reject
An empty batch is accepted with rate 0; threshold 0 % rejects on any error, 100 % never rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.validate import ValidationResult

TOP_REASONS = 3


@dataclass(frozen=True)
class Decision:
    accept: bool  # load the valid records
    error_rate: float  # invalid / total, 0..1
    threshold_pct: float
    partial_ingestion: bool
    records_total: int
    records_invalid: int
    message: str  # one line: rate, threshold and, when there are failures, the top reasons

    @property
    def error_rate_pct(self) -> float:
        return 100.0 * self.error_rate


def format_pct(value: float) -> str:
    """7.5 -> "7.5%", 5 -> "5.0%", 0.25 -> "0.25%"; tiny non-zero rates do not read as 0."""
    if 0 < value < 0.01:
        return "<0.01%"
    text = f"{value:.2f}".rstrip("0")
    return f"{text}0%" if text.endswith(".") else f"{text}%"


def _within(invalid: int, total: int, threshold_pct: float) -> bool:
    # Exact arithmetic: 5 invalid of 100 is exactly at a 5 % threshold, not a float hair above.
    return Fraction(invalid * 100, total) <= Fraction(str(threshold_pct))


def decide(result: ValidationResult, settings: ValidationSettings, *, label: str | None = None) -> Decision:
    """Whether the batch loads, with a one-line message (`label` prefixes it: "charges 2026-10-03")."""
    label = label or result.resource
    total, invalid = result.records_total, result.records_invalid
    threshold = settings.threshold_pct
    if invalid == 0:
        accept = True
    elif not settings.partial_ingestion:
        accept = False
    else:
        accept = _within(invalid, total, threshold)

    rate = f"{format_pct(100.0 * result.error_rate)} of {total} records invalid ({invalid})"
    if not invalid:
        verdict = "no invalid records"
        rate = f"{total} records"
    elif not settings.partial_ingestion:
        verdict = "partial ingestion is off, so any invalid record fails the batch"
    elif accept:
        verdict = f"within the {format_pct(threshold)} threshold; {invalid} quarantined"
    else:
        verdict = f"above the {format_pct(threshold)} threshold"
    message = f"{label}: {rate}, {verdict}"
    top = result.top_reasons(TOP_REASONS)
    if top:
        message += "; top reasons: " + "; ".join(f"{why} ({count})" for why, count in top)
    return Decision(
        accept=accept,
        error_rate=result.error_rate,
        threshold_pct=threshold,
        partial_ingestion=settings.partial_ingestion,
        records_total=total,
        records_invalid=invalid,
        message=message,
    )
