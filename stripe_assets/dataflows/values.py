"""How the dataflows file's values are read and shown: errors that read as one line, values
shown as the YAML author wrote them, UTC times on whole minutes, and the strict model base."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

# Times outside these years leave no room for the next runs, the windows and Unix timestamps.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)


def config_error(message: str, *, field: str | None = None) -> PydanticCustomError:
    """A validation error whose message is already readable; `field` names where it points."""
    return PydanticCustomError("dataflow_config", "{message}", {"message": message, "field": field})


def show(value: object) -> str:
    """A value as the YAML author wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, str):
        # A pasted blob must not turn one error line into megabytes.
        return repr(value) if len(value) <= 80 else repr(value[:60]) + f"... ({len(value):,} characters)"
    text = str(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text):,} characters)"


def iso_utc(value: datetime) -> str:
    """`2026-01-01T02:00:00Z`: the form `dataflows.yaml` uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_time(value: Any) -> datetime:
    """An ISO-8601 time with a zero UTC offset, on a whole minute (schedules tick on minutes)."""
    example = "e.g. 2026-01-01T02:00:00Z"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise config_error(f"{show(value)} is not an ISO-8601 time ({example})") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise config_error(f"{show(value)} is not an ISO-8601 time ({example})")
    if parsed.tzinfo is None:
        raise config_error(f"{show(value)} has no UTC offset (append Z, {example})")
    if parsed.utcoffset() != timedelta(0):
        raise config_error(f"{show(value)} is not in UTC (use Z or +00:00, {example})")
    if parsed.second or parsed.microsecond:
        raise config_error(f"{show(value)} is not on a whole minute (schedules tick on minutes)")
    if not EARLIEST_TIME <= parsed < LATEST_TIME:
        raise config_error(
            f"{show(value)} is outside the years 1970 to 2999 (runs and partitions are computed within them)"
        )
    return parsed.astimezone(UTC)


UtcTime = Annotated[datetime, BeforeValidator(utc_time)]


class ConfigModel(BaseModel):
    """Unknown keys are errors; a read config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
