"""Alert settings: named channels (configured once) and which run statuses each dataflow reports."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from stripe_assets.ingest.redact import register_secret_env

RunStatus = Literal["start", "success", "failure"]
RUN_STATUSES: tuple[RunStatus, ...] = ("start", "success", "failure")

_log = logging.getLogger(__name__)


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogChannel(_Channel):
    """Appends each alert to a JSON-lines file outside the warehouse, and to the Dagster event log."""

    type: Literal["log"]
    path: str = Field("data/alerts.jsonl", description="Alert log file (JSON lines).")


class _NetworkChannel(_Channel):
    """Delivery over the network: attempts bounded by a timeout each, and retries with a doubling
    delay on the failures the channel counts as passing (webhook: 5xx, 429, timeouts, connection
    errors; email: connection errors and 4xx replies)."""

    type: str
    timeout_seconds: float = Field(10.0, gt=0, description="Per attempt.")
    retries: int = Field(3, ge=0, le=10, description="Extra attempts after a passing failure.")
    backoff_seconds: float = Field(0.5, ge=0, description="First retry delay; doubles on each retry.")


class WebhookChannel(_NetworkChannel):
    """POSTs JSON with a Slack-compatible `text` field plus the structured alert fields."""

    type: Literal["webhook"]
    url: str | None = Field(None, description="Target URL (or use url_env).")
    url_env: str | None = Field(None, description="Environment variable holding the URL (for secret URLs).")

    @model_validator(mode="after")
    def _one_url_source(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("webhook channel needs exactly one of `url` or `url_env`")
        register_secret_env(self.url_env)  # the URL (its token) is kept out of every message
        return self


class EmailChannel(_NetworkChannel):
    """Plain-text email over SMTP; credentials only from environment variables."""

    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    starttls: StrictBool = True
    sender: str
    to: list[str] = Field(min_length=1)
    username_env: str | None = Field(None, description="Environment variable holding the SMTP user.")
    password_env: str | None = Field(None, description="Environment variable holding the SMTP password.")

    @model_validator(mode="after")
    def _credentials_together(self) -> EmailChannel:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("email channel needs both `username_env` and `password_env`, or neither")
        register_secret_env(self.password_env)
        return self


ChannelConfig = Annotated[LogChannel | WebhookChannel | EmailChannel, Field(discriminator="type")]


class AlertSettings(BaseModel):
    """The `alerts:` block of a dataflow: which run statuses to send, through which channels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    send: list[RunStatus] = Field(default_factory=lambda: list(RUN_STATUSES))
    channels: list[str] = Field(default_factory=lambda: ["log"])

    @model_validator(mode="before")
    @classmethod
    def _old_key(cls, data: Any) -> Any:
        # `on:` was this key's first name; every YAML 1.1 reader (PyYAML, yamllint, many editors)
        # takes it for the boolean true, so it is renamed and still read, with a warning.
        if isinstance(data, dict) and "on" in data:
            if "send" in data:
                raise ValueError("`on` is the old name of `send`: keep only `send`")
            _log.warning(
                "dataflows: the alerts key `on:` is now `send:` (`on` reads as true in YAML 1.1 tools); rename it"
            )
            data = {("send" if key == "on" else key): value for key, value in data.items()}
        return data
