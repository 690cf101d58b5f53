"""The typed model of `dataflows.yaml`: one dataflow per Stripe resource, plus alert channels.

Every default lives here: with no file at all, `DataflowsConfig()` is what the shipped
`dataflows.yaml` spells out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from pydantic import (
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stripe_assets.catalog import DECLARATIONS_DIR, RESOURCE_NAMES, StripeResource, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.dataflows.accounts import Accounts, parse_accounts
from stripe_assets.dataflows.alert_settings import AlertSettings, ChannelConfig, LogChannel
from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.change_settings import ChangeSettings
from stripe_assets.dataflows.values import ConfigModel, UtcTime, config_error, iso_utc, show
from stripe_assets.ingest.columns import AddedColumn, ColumnSpec, apply_mapping
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse.history import HistoryRetention

Frequency = Literal["once", "minute", "hour", "day", "week"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

# Smallest interval per frequency: minute schedules tick no more often than every 15 minutes.
MIN_INTERVAL: dict[str, int] = {"minute": 15, "hour": 1, "day": 1, "week": 1}
# Largest: about ten years, so the next runs and the partition windows stay computable dates.
MAX_INTERVAL: dict[str, int] = {"minute": 5_260_320, "hour": 87_672, "day": 3_653, "week": 521}

DEFAULT_HISTORY_START = datetime(2025, 1, 1, tzinfo=UTC)
# Ten minutes past midnight UTC: the previous day's objects have settled when the daily run starts.
DEFAULT_START_TIME = datetime(2025, 1, 1, 0, 10, tzinfo=UTC)
DEFAULT_UI_BASE_URL = "http://localhost:3000"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class AddedColumnConfig(ConfigModel):
    """A column read from a dotted path of the Stripe object; its type defaults to Stripe's."""

    path: str
    type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _path_shorthand(cls, data: Any) -> Any:
        # `column: a.b.c` is short for `column: {path: a.b.c}`.
        return {"path": data} if isinstance(data, str) else data


class FieldMapping(ConfigModel):
    """Changes to a resource's default columns: drop, then rename, then add."""

    add: dict[str, AddedColumnConfig] = Field(default_factory=dict)
    rename: dict[str, str] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.add or self.rename or self.drop)


class Dataflow(ConfigModel):
    """One Stripe resource path on a schedule, with its validation, alerts and column mapping."""

    name: str = Field(description="Unique; names the schedule `<name>_schedule` in Dagster.")
    resource: str = Field(description="The Stripe resource (API path /v1/<resource>).")
    frequency: Frequency = Field("day", description="once, minute, hour, day or week.")
    # Fields below read `frequency` (declared above) while validating.
    interval: int | None = Field(
        None,
        validate_default=True,
        description="Frequency units between runs: at least 15 for minute, 1 otherwise; none for once.",
    )
    start_time: UtcTime = Field(
        DEFAULT_START_TIME, description="First run, UTC; later runs every interval after it."
    )
    history_start: UtcTime = Field(DEFAULT_HISTORY_START, description="Where a backfill begins (UTC).")
    backfill: StrictBool | None = Field(
        None,
        validate_default=True,
        description="On: the first run loads everything since history_start. Off: only data from start_time on.",
    )
    enabled: StrictBool = Field(True, description="Whether the schedule starts running.")
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    mapping: FieldMapping = Field(default_factory=FieldMapping)
    changes: ChangeSettings = Field(default_factory=ChangeSettings, validate_default=True)
    accounts: Accounts | None = Field(
        None, description="Whose data it reads (self, connected, all or acct_ ids); unset: api.accounts."
    )

    @field_validator("accounts", mode="before")
    @classmethod
    def _parse_accounts(cls, value: Any) -> Accounts | None:
        return None if value is None else parse_accounts(value)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _NAME.match(value):
            raise config_error(
                f"{show(value)} is not a valid name (letters, digits and underscores, starting with a letter)"
            )
        return value

    @field_validator("resource")
    @classmethod
    def _known_resource(cls, value: str) -> str:
        if value not in RESOURCE_NAMES:
            raise config_error(
                f"{show(value)} is not a declared resource (declared: {', '.join(RESOURCE_NAMES)}); "
                f"to add it, declare it in {DECLARATIONS_DIR}/{value}.py"
            )
        return value

    @field_validator("changes")
    @classmethod
    def _changes_for_resource(cls, value: ChangeSettings, info: ValidationInfo) -> ChangeSettings:
        resource = info.data.get("resource")
        if resource is None:  # already reported as invalid
            return value
        mutable = bool(get_resource(resource).events)
        if value.mode is None:
            return value.model_copy(update={"mode": "events" if mutable else "off"})
        if value.mode == "events" and not mutable:
            raise config_error(
                f"'events' is not allowed for {resource}: Stripe sends no events for them (they never "
                "change once created); use off (the default) or lookback",
                field="mode",
            )
        return value

    @field_validator("frequency", mode="before")
    @classmethod
    def _known_frequency(cls, value: Any) -> Any:
        if value not in FREQUENCIES:
            raise config_error(f"{show(value)} is not a frequency (allowed: {', '.join(FREQUENCIES)})")
        return value

    @field_validator("interval", mode="before")
    @classmethod
    def _interval_for_frequency(cls, value: Any, info: ValidationInfo) -> int | None:
        frequency = info.data.get("frequency")
        if frequency is None:  # already reported as invalid
            return value
        if frequency == "once":
            if value is not None:
                raise config_error(
                    f"{show(value)} is not allowed for frequency 'once' "
                    "(it runs a single time; remove `interval`)"
                )
            return None
        minimum = MIN_INTERVAL[frequency]
        if value is None:
            return minimum
        if isinstance(value, bool) or not isinstance(value, int):
            raise config_error(
                f"{show(value)} is not a whole number (allowed: an integer of at least {minimum})"
            )
        if value < 1:
            raise config_error(
                f"{value} is not allowed; the interval is never zero or negative (minimum {minimum})"
            )
        if value < minimum:
            raise config_error(f"{value} is below the minimum of {minimum} for frequency {frequency!r}")
        if value > MAX_INTERVAL[frequency]:
            raise config_error(
                f"{value} is above the maximum of {MAX_INTERVAL[frequency]} for frequency {frequency!r} "
                "(about ten years)"
            )
        return value

    @field_validator("backfill")
    @classmethod
    def _backfill_for_frequency(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        frequency = info.data.get("frequency")
        if frequency == "once":
            if value is not None:
                raise config_error(
                    f"{show(value)} is not allowed for frequency 'once' "
                    "(it always loads everything; remove `backfill`)"
                )
            return None
        return True if value is None else value

    @model_validator(mode="after")
    def _consistent(self) -> Dataflow:
        if self.loads_history and self.history_start > self.start_time:
            raise config_error(
                f"{iso_utc(self.history_start)} is after start_time {iso_utc(self.start_time)} "
                "(a backfill begins at or before the start time)",
                field="history_start",
            )
        try:
            self.columns()
        except ValueError as exc:
            raise config_error(str(exc), field="mapping") from None
        return self

    @property
    def declaration(self) -> StripeResource:
        """The catalog's declaration of the resource it loads."""
        return get_resource(self.resource)

    def reads(self, api: ApiSettings) -> Accounts:
        """Whose data it reads: its own `accounts:`, else the `api:` section's."""
        return self.accounts if self.accounts is not None else api.accounts

    @property
    def loads_history(self) -> bool:
        """Whether the first run starts at history_start (backfill on, or a one-off load)."""
        return self.frequency == "once" or bool(self.backfill)

    def columns(self) -> list[ColumnSpec]:
        """The resource's default columns with this dataflow's mapping applied."""
        return apply_mapping(
            self.declaration,
            add={name: AddedColumn(c.path, c.type) for name, c in self.mapping.add.items()},
            rename=self.mapping.rename,
            drop=self.mapping.drop,
        )


# The shipped file's one example mapping: the card's funding type next to its brand.
DEFAULT_MAPPINGS: dict[str, FieldMapping] = {
    "charges": FieldMapping(
        add={"card_funding": AddedColumnConfig(path="payment_method_details.card.funding")}
    ),
}


# Child lists are read from their parents' tables: their default runs tick after the parents'.
CHILD_START_TIME = DEFAULT_START_TIME + timedelta(minutes=30)


def default_dataflows() -> tuple[Dataflow, ...]:
    """One daily dataflow per resource, backfilling from DEFAULT_HISTORY_START."""
    return tuple(
        Dataflow(
            name=f"stripe_{r}", resource=r, mapping=DEFAULT_MAPPINGS.get(r, FieldMapping()),
            start_time=CHILD_START_TIME if child_of(get_resource(r)) is not None else DEFAULT_START_TIME,
        )
        for r in RESOURCE_NAMES
    )


def _default_channels() -> dict[str, ChannelConfig]:
    return {"log": LogChannel(type="log")}


class DataflowsConfig(ConfigModel):
    """The whole `dataflows.yaml`."""

    channels: dict[str, ChannelConfig] = Field(default_factory=_default_channels)
    ui_base_url: str = DEFAULT_UI_BASE_URL
    history: HistoryRetention = Field(default_factory=HistoryRetention)
    api: ApiSettings = Field(default_factory=ApiSettings)
    dataflows: tuple[Dataflow, ...] = Field(default_factory=default_dataflows)

    @field_validator("channels")
    @classmethod
    def _log_always_exists(cls, value: dict[str, ChannelConfig]) -> dict[str, ChannelConfig]:
        # Every project has an alert log; declaring `log` only changes where it writes.
        return value if "log" in value else {**_default_channels(), **value}

    @model_validator(mode="after")
    def _unique_and_resolvable(self) -> DataflowsConfig:
        names: set[str] = set()
        owners: dict[str, str] = {}
        for flow in self.dataflows:
            if flow.name in names:
                raise config_error(
                    f"dataflow {flow.name!r}, field 'name': {show(flow.name)} is used by two dataflows "
                    "(names must be unique)"
                )
            names.add(flow.name)
            if flow.resource in owners:
                raise config_error(
                    f"dataflow {flow.name!r}, field 'resource': {show(flow.resource)} is already loaded "
                    f"by dataflow {owners[flow.resource]!r} (one dataflow per resource)"
                )
            owners[flow.resource] = flow.name
            for channel in flow.alerts.channels:
                if channel not in self.channels:
                    raise config_error(
                        f"dataflow {flow.name!r}, field 'alerts.channels': {show(channel)} is not a defined "
                        f"channel (defined under `channels:`: {', '.join(self.channels)})"
                    )
        return self

    def for_resource(self, resource: str) -> Dataflow:
        for flow in self.dataflows:
            if flow.resource == resource:
                return flow
        configured = ", ".join(f.resource for f in self.dataflows) or "none"
        raise ValueError(f"no dataflow loads {resource!r} (configured: {configured})")

    def by_name(self, name: str) -> Dataflow:
        for flow in self.dataflows:
            if flow.name == name:
                return flow
        raise ValueError(
            f"no dataflow named {name!r} (configured: {', '.join(f.name for f in self.dataflows)})"
        )
