"""A dataflow's `changes:` block: how rows already loaded are kept equal to Stripe."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from stripe_assets.dataflows.values import ConfigModel, config_error, show

ChangesMode = Literal["events", "lookback", "off"]
CHANGES_MODES: tuple[str, ...] = ChangesMode.__args__  # type: ignore[attr-defined]


class ChangeSettings(ConfigModel):
    """How rows already loaded are kept equal to Stripe (the `changes:` block of a dataflow).

    `changes: events` (or `lookback`, `off`) is short for `changes: {mode: ...}`."""

    mode: ChangesMode | None = Field(
        None,
        description="events: apply Stripe's Events before each load (default for resources that change); "
        "lookback: re-load the last `lookback` closed partitions on each run; "
        "off: loaded partitions are never revisited (default for balance_transactions, which never change).",
    )
    lookback: int | None = Field(
        None, description="lookback only: closed partitions re-loaded on every run (at least 1)."
    )
    horizon_days: float | None = Field(
        None,
        description="events only: when events cannot be used (cursor older than Stripe's 30-day event "
        "retention, or a key without events read access), re-read loaded partitions of at most this many "
        "days back (null: the whole loaded history).",
    )

    @model_validator(mode="before")
    @classmethod
    def _mode_shorthand(cls, data: Any) -> Any:
        return {"mode": data} if isinstance(data, str) else data

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, value: Any) -> Any:
        if value is not None and value not in CHANGES_MODES:
            raise config_error(f"{show(value)} is not a changes mode (allowed: {', '.join(CHANGES_MODES)})")
        return value

    @field_validator("lookback", mode="before")
    @classmethod
    def _whole_positive(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise config_error(f"{show(value)} is not allowed (allowed: a whole number of partitions, at least 1)")
        return value

    @field_validator("horizon_days", mode="before")
    @classmethod
    def _positive_days(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise config_error(f"{show(value)} is not allowed (allowed: a number of days above 0, or null)")
        return value

    @model_validator(mode="after")
    def _fields_for_mode(self) -> ChangeSettings:
        if self.mode == "lookback" and self.lookback is None:
            raise config_error(
                "mode 'lookback' needs `lookback: N`, the closed partitions re-loaded on each run", field="lookback"
            )
        if self.lookback is not None and self.mode != "lookback":
            raise config_error(
                f"{self.lookback} is only used with mode 'lookback' (add `mode: lookback`)",
                field="lookback",
            )
        if self.horizon_days is not None and self.mode not in (None, "events"):
            raise config_error(
                f"{self.horizon_days:g} is only used with mode 'events' (mode is {show(self.mode)})",
                field="horizon_days",
            )
        return self
