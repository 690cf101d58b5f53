"""The alert a person receives about one run status, and its text forms (chat/email body, subject)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stripe_assets.dataflows.alert_settings import RunStatus
from stripe_assets.ingest.redact import redact

SUBJECT_PREFIX = "[stripe-assets]"


class Alert(BaseModel):
    """Everything needed to act on a run status change, independent of the channel."""

    model_config = ConfigDict(frozen=True)

    alert_id: str = Field(description="`<run_id>:<status>`: the same for every channel, so receivers can dedupe.")
    status: RunStatus
    dataflows: list[str]
    resources: list[str]
    run_id: str
    job_name: str | None = None
    partition: str | None = None
    partition_range_start: str | None = None
    partition_range_end: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    records_loaded: int | None = None
    records_rejected: int | None = None
    error_rate_pct: float | None = None
    error: str | None = Field(None, description="First meaningful line of the run's error (failures).")
    failed_step: str | None = None
    notes: list[str] = Field(
        default_factory=list, description="What the run did differently, e.g. partitions re-read instead of events."
    )
    run_url: str
    test: bool = Field(False, description="Sent by `stripe-assets alerts test`, not by a run.")

    @field_validator("error")
    @classmethod
    def _no_secrets(cls, value: str | None) -> str | None:
        # Whatever raised it, an error quoting the API key never reaches a channel.
        return redact(value) if value else value

    @property
    def short_run_id(self) -> str:
        return self.run_id[:8]

    @property
    def partitions_label(self) -> str | None:
        if self.partition:
            return self.partition
        if self.partition_range_start and self.partition_range_end:
            return f"{self.partition_range_start}...{self.partition_range_end}"
        return None


def _utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_subject(alert: Alert) -> str:
    test = " TEST" if alert.test else ""
    return f"{SUBJECT_PREFIX}{test} {alert.status.upper()} {', '.join(alert.dataflows)} run {alert.short_run_id}"


def render_text(alert: Alert) -> str:
    """Plain text readable in Slack, a terminal and an email body alike."""
    verb = {"start": "started", "success": "succeeded", "failure": "FAILED"}[alert.status]
    lines = [
        f"{render_subject(alert)}",
        f"Dataflow {', '.join(alert.dataflows)} ({', '.join(alert.resources)}): run {alert.short_run_id} {verb}.",
    ]
    if alert.partitions_label:
        lines.append(f"Partition: {alert.partitions_label}")
    if alert.status == "failure":
        step = f" in step {alert.failed_step}" if alert.failed_step else ""
        lines.append(f"Error{step}: {alert.error or 'no error message recorded'}")
    if alert.records_loaded is not None or alert.records_rejected is not None:
        parts = []
        if alert.records_loaded is not None:
            parts.append(f"{alert.records_loaded} loaded")
        if alert.records_rejected is not None:
            parts.append(f"{alert.records_rejected} rejected")
        rate = f" ({alert.error_rate_pct:g}% invalid)" if alert.error_rate_pct is not None else ""
        lines.append(f"Records: {', '.join(parts)}{rate}")
    elif alert.error_rate_pct is not None:
        lines.append(f"Error rate: {alert.error_rate_pct:g}% invalid")
    lines += [f"Note: {note}" for note in alert.notes]
    timing = []
    if alert.started_at:
        timing.append(f"started {_utc(alert.started_at)}")
    if alert.ended_at:
        timing.append(f"ended {_utc(alert.ended_at)}")
    if alert.duration_seconds is not None:
        timing.append(f"took {alert.duration_seconds:.1f} s")
    if timing:
        text = ", ".join(timing)
        lines.append(text[0].upper() + text[1:])
    lines.append(f"Run: {alert.run_url}")
    return "\n".join(lines)


def run_url(ui_base_url: str, run_id: str) -> str:
    return f"{ui_base_url.rstrip('/')}/runs/{run_id}"


def sample_alert(dataflow: str, resource: str, ui_base_url: str) -> Alert:
    """A realistic failure alert for checking that a channel reaches people."""
    now = datetime.now(UTC)
    run_id = "00000000-test-0000-0000-000000000000"
    return Alert(
        alert_id=f"{run_id}:failure",
        status="failure",
        dataflows=[dataflow],
        resources=[resource],
        run_id=run_id,
        partition=now.strftime("%Y-%m-%d"),
        started_at=now,
        ended_at=now,
        duration_seconds=0.0,
        records_loaded=370,
        records_rejected=30,
        error_rate_pct=7.5,
        error=(
            f"{resource} {now:%Y-%m-%d}: 7.5% of 400 records invalid (30), above the 5.0% threshold "
            "(test alert from `stripe-assets alerts test`; no run failed)"
        ),
        failed_step=f"stripe__{resource}",
        run_url=run_url(ui_base_url, run_id),
        test=True,
    )
