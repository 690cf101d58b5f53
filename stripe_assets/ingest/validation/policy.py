"""Partial-ingestion settings: how many invalid records a load tolerates before it fails."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class ValidationSettings(BaseModel):
    """Per-dataflow validation settings (the `validation:` block of a dataflow)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict: only true/false, never the strings `off` or `no` a YAML 1.1 habit may write.
    partial_ingestion: StrictBool = Field(
        True,
        description="Load the valid records of a batch that contains invalid ones, up to the threshold.",
    )
    threshold_pct: float = Field(
        5.0,
        ge=0,
        le=100,
        description="Percentage of invalid records above which the whole partition fails.",
    )
    diagnostics: StrictBool = Field(
        True,
        description="Keep per-record failure details in check metadata (counts only when off).",
    )
    strict_enums: StrictBool = Field(
        False,
        description="Reject enum values the pinned API version does not know (otherwise: drift).",
    )
