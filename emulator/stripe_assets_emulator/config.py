"""What the emulator serves (seed, dates, volumes) and which faults it injects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stripe_assets.catalog import get_resource
from stripe_assets_emulator.generators import generator_class, generator_classes
from stripe_assets_emulator.ids import MAX_DAYS, MAX_PER_DAY

DEFAULT_API_KEY = "sk_test_emulator"
DEFAULT_PER_DAY = 50
DISPUTE_RATE = 0.01  # share of a day's charges disputed later (at least one per day of charges)
DEFAULT_DAYS = 30



def counted_resources() -> tuple[str, ...]:
    """The resources `per_day` counts; the others follow them (balance transactions: one per
    settled charge, refund and payout, as in a real Stripe balance)."""
    return tuple(name for name, g in generator_classes().items() if g.follows is None)

InvalidKind = Literal["wrong_type", "unknown_enum", "missing_required", "null_required"]
INVALID_KINDS: tuple[InvalidKind, ...] = get_args(InvalidKind)


def default_start() -> date:
    """Thirty days before today (UTC): with 30 days, the last complete days before today."""
    return datetime.now(UTC).date() - timedelta(days=DEFAULT_DAYS)


class RateLimit(BaseModel):
    """Token buckets refilled every second, like Stripe's request rate limiter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    global_rps: float = Field(gt=0, description="requests per second across all endpoints")
    per_endpoint_rps: float | None = Field(
        default=None, gt=0, description="requests per second for each endpoint (None: no limit)"
    )

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """A preset name (`stripe-test`, `stripe-live`) or a number of requests per second."""
        preset = RATE_LIMIT_PRESETS.get(text.strip())
        if preset is not None:
            return preset
        try:
            rps = float(text)
        except ValueError:
            raise ValueError(
                f"rate limit {text!r} is neither a preset ({', '.join(RATE_LIMIT_PRESETS)}) "
                "nor a number of requests per second"
            ) from None
        if rps <= 0:
            raise ValueError(f"rate limit must be a positive number of requests per second, got {text!r}")
        return cls(global_rps=rps)


# Stripe's documented limits: 25 requests/s in test mode, 100 in live mode, and 25/s for
# several individual endpoints.
RATE_LIMIT_PRESETS: Mapping[str, RateLimit] = {
    "stripe-test": RateLimit(global_rps=25, per_endpoint_rps=25),
    "stripe-live": RateLimit(global_rps=100, per_endpoint_rps=25),
}


class FaultConfig(BaseModel):
    """Faults to inject; all are off by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invalid_fraction: float = Field(
        0.0, ge=0.0, le=1.0, description="share of each resource's objects served invalid"
    )
    invalid_kinds: tuple[InvalidKind, ...] = Field(
        INVALID_KINDS, min_length=1, description="ways an invalid object breaks the schema"
    )
    rate_limit: RateLimit | None = Field(None, description="answer 429 above this request rate")
    error_every: int | None = Field(None, ge=1, description="answer every Nth request with a 500")
    empty_pages: bool = Field(
        False, description="answer list pages after the first (with starting_after) with has_more=true and no objects"
    )
    outside_window_every: int | None = Field(
        None, ge=1, description="list every Nth object of a list with a created outside the requested range"
    )
    latency_ms: float = Field(0.0, ge=0.0, description="delay added to every request")
    latency_jitter_ms: float = Field(0.0, ge=0.0, description="random extra delay, up to this")

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _parse_rate_limit(cls, value: object) -> object:
        if isinstance(value, str):
            return RateLimit.parse(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return RateLimit(global_rps=value)
        return value

    @field_validator("invalid_kinds", mode="before")
    @classmethod
    def _split_kinds(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value


class ConnectConfig(BaseModel):
    """Connected accounts of the emulated platform, each with its own objects and events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform_id: str | None = Field(
        None,
        pattern=r"^acct_[0-9A-Za-z]{16}$",
        description="the key's own account id (default: derived from the seed); two data sets of one account share it",
    )
    accounts: int = Field(0, ge=0, le=100_000, description="connected accounts (0: not a platform)")
    per_day: int = Field(2, ge=0, le=MAX_PER_DAY, description="objects per resource and day in a connected account")
    empty_every: int | None = Field(
        5, ge=1, description="every Nth connected account (the 1st, N+1th, ...) has no objects"
    )
    forbidden: tuple[int, ...] = Field(
        (), description="connected accounts (0-based) that are listed but answer 403 to the key"
    )
    deauthorize_after: dict[int, int] = Field(
        default_factory=dict,
        description="connected account (0-based) -> deauthorized once this many requests were made for it",
    )

    @model_validator(mode="after")
    def _known_accounts(self) -> ConnectConfig:
        for index in (*self.forbidden, *self.deauthorize_after):
            if not 0 <= index < self.accounts:
                raise ValueError(f"connected account {index} does not exist (accounts: {self.accounts})")
        return self


class EmulatorConfig(BaseModel):
    """The data set (seed, window, volume), the key it accepts, where it listens and its faults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(42, description="same seed, same data, byte for byte")
    start: date = Field(default_factory=default_start, description="first UTC day with objects")
    days: int = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="number of UTC days with objects")
    per_day: int | dict[str, int] = Field(
        DEFAULT_PER_DAY,
        description="objects created per day: one number for every resource or a mapping by "
        "resource (missing resources get the default); balance transactions, payouts, payment "
        "intents and invoices follow other resources",
    )
    dispute_rate: float = Field(
        DISPUTE_RATE, ge=0, le=1,
        description="share of a day's settled charges disputed later (at least one a day); more "
        "makes disputes, their balance transactions and their events in volume",
    )
    api_key: str = Field(DEFAULT_API_KEY, min_length=1, description="the only key accepted")
    pretty: bool = Field(
        False,
        description="answer JSON as Stripe's API does, indented two spaces a level (a field a "
        "line); off: compact, the same values",
    )
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port")
    faults: FaultConfig = Field(default_factory=FaultConfig)
    connect: ConnectConfig = Field(default_factory=ConnectConfig)

    @model_validator(mode="before")
    @classmethod
    def _every_resource_generated(cls, data: object) -> object:
        generator_classes()  # a declared resource without a generator: say where to add one
        return data

    @field_validator("per_day")
    @classmethod
    def _check_per_day(cls, value: int | dict[str, int]) -> int | dict[str, int]:
        counts = value if isinstance(value, dict) else {}
        generators = generator_classes()  # also: every declared resource can be generated
        for name in counts:
            follows = generators[name].follows if name in generators else None
            if follows is not None:
                raise ValueError(f"per_day[{name!r}] cannot be set: {name.replace('_', ' ')} follow {follows}")
            if name not in generators:
                get_resource(name)  # undeclared: the one line saying where to declare it
        for name, count in ({"per_day": value} if isinstance(value, int) else counts).items():
            label = name if name == "per_day" else f"per_day[{name!r}]"
            if not 0 <= count <= MAX_PER_DAY:
                raise ValueError(f"{label} must be between 0 and {MAX_PER_DAY}, got {count}")
        return value

    @model_validator(mode="after")
    def _check_dependencies(self) -> EmulatorConfig:
        for dependent, generator in generator_classes().items():
            if generator.follows is not None or self.count_per_day(dependent) == 0:
                continue
            for name in generator.needs:
                if self.count_per_day(name) == 0:
                    raise ValueError(f"per_day[{name!r}] must be > 0 when {dependent} are generated")
        return self

    def count_per_day(self, resource: str) -> int:
        """Objects of a generated resource created on each day."""
        follows = generator_class(resource).follows
        if follows is not None:
            raise ValueError(f"{resource} follow {follows}, not counted per day")
        if isinstance(self.per_day, int):
            return self.per_day
        return self.per_day.get(resource, DEFAULT_PER_DAY)

    @property
    def start_timestamp(self) -> int:
        return int(
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()
        )

    @property
    def end_timestamp(self) -> int:
        """The end of the window (exclusive): the data describes Stripe's state at this instant."""
        return self.start_timestamp + self.days * 86400


def parse_counts(text: str, label: str, key: str) -> int | dict[str, int]:
    """`500` or `a=500,b=50` (command-line syntax); errors name the option (`label`) and what
    the keys are (`key`)."""
    text = text.strip()
    if "=" not in text:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{label} {text!r} is not a number or a list of {key}=number") from None
    counts: dict[str, int] = {}
    for part in text.split(","):
        name, _, number = part.partition("=")
        try:
            counts[name.strip()] = int(number)
        except ValueError:
            raise ValueError(f"{label} entry {part.strip()!r} is not {key}=number") from None
    return counts


def parse_per_day(text: str) -> int | dict[str, int]:
    """`500` or `charges=500,customers=50` (command-line syntax)."""
    return parse_counts(text, "per-day", "resource")
