"""The "Review" step: each dataflow's schedule, partitions, validation, alerts and mapping in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stripe_assets.dataflows.alert_settings import ChannelConfig, EmailChannel, LogChannel, WebhookChannel
from stripe_assets.dataflows.freshness import freshness_windows
from stripe_assets.dataflows.models import Dataflow, DataflowsConfig
from stripe_assets.dataflows.partitions import PARTITION_WARNING_COUNT, time_model
from stripe_assets.dataflows.schedules import (
    cron_for,
    describe_schedule,
    next_ticks,
    schedule_name,
    utc,
    when,
)
from stripe_assets.ingest.columns import default_columns


@dataclass(frozen=True)
class DagsterNames:
    """What the project's definitions call a dataflow's Dagster parts: schedule names end in
    `schedule_suffix` (one of several Stripe components in a project: `_<folder>`), and
    `asset_keys` holds each resource's asset key as the project's translator made it
    (a resource not in it: `stripe/<resource>`)."""

    schedule_suffix: str = ""
    asset_keys: Mapping[str, str] = field(default_factory=dict)

    def asset(self, resource: str) -> str:
        return self.asset_keys.get(resource) or f"stripe/{resource}"

_LABEL_WIDTH = 12


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _line(label: str, text: str) -> str:
    return f"  {label:<{_LABEL_WIDTH}} {text}"


def _more(text: str) -> str:
    return f"  {'':<{_LABEL_WIDTH}} {text}"


def describe_channel(channel: ChannelConfig) -> str:
    if isinstance(channel, LogChannel):
        return f"log file {channel.path}"
    if isinstance(channel, WebhookChannel):
        return f"webhook {channel.url}" if channel.url else f"webhook from ${channel.url_env}"
    if isinstance(channel, EmailChannel):
        return f"email to {', '.join(channel.to)} via {channel.host}:{channel.port}"
    return channel.type


def partition_warnings(dataflow: Dataflow, now: datetime) -> list[str]:
    count = time_model(dataflow).count(now)
    if count <= PARTITION_WARNING_COUNT:
        return []
    return [
        f"{count:,} partitions: the Dagster UI slows down above {PARTITION_WARNING_COUNT:,}; "
        "move history_start later or choose a coarser frequency"
    ]


def _partitions(dataflow: Dataflow, now: datetime) -> str:
    time = time_model(dataflow)
    count = time.count(now)
    if count == 0:
        return f"{time.words} UTC windows; none yet, the first ({time.key(time.first)}) opens at {when(time.first)}"
    current = time.window_start(now)
    return (
        f"{time.words} UTC windows {time.key(time.first)} … {time.key(current)} (current), "
        f"{count:,} partition{'s' if count != 1 else ''}"
    )


def _next_runs(dataflow: Dataflow, now: datetime) -> str:
    ticks = next_ticks(dataflow, now, 3)
    if ticks:
        return ", ".join(when(t) for t in ticks)
    return (
        "none scheduled: a once dataflow past its start time runs as soon as its schedule is on, "
        "if it has not run yet"
    )


def _backfill(dataflow: Dataflow) -> str:
    time = time_model(dataflow)
    first = time.key(time.first)
    if dataflow.frequency == "once":
        return f"n/a for once: the run loads everything from partition {first}"
    if dataflow.backfill:
        return (
            f"on: the first run loads every partition from {first} "
            f"(history_start {when(dataflow.history_start)})"
        )
    return f"off: nothing before {when(dataflow.start_time)} is loaded (first partition {first})"


def _validation(dataflow: Dataflow) -> str:
    v = dataflow.validation
    return (
        f"a partition fails above {v.threshold_pct:g}% invalid records; "
        f"partial ingestion {_on_off(v.partial_ingestion)}; diagnostics {_on_off(v.diagnostics)}; "
        f"strict enums {_on_off(v.strict_enums)}"
    )


def _changes(dataflow: Dataflow) -> str:
    c = dataflow.changes
    if c.mode == "events":
        horizon = f"the last {c.horizon_days:g} days" if c.horizon_days is not None else "all loaded partitions"
        return (
            "each run first applies Stripe's Events since the previous one (updates, deletions marked); "
            f"past the 30-day event retention it re-reads {horizon}"
        )
    if c.mode == "lookback":
        return f"each run also re-loads the last {c.lookback} closed partition{'s' * (c.lookback != 1)}"
    return "off: loaded partitions are never read again"


def _alerts(dataflow: Dataflow) -> str:
    alerts = dataflow.alerts
    if not alerts.send or not alerts.channels:
        return "none"
    return f"{', '.join(alerts.send)} → {', '.join(alerts.channels)}"


def _mapping(dataflow: Dataflow) -> list[str]:
    columns = {c.name: c for c in dataflow.columns()}
    mapping = dataflow.mapping
    defaults = len(default_columns(dataflow.declaration))
    if mapping.is_empty:
        return [f"default columns ({defaults})"]
    lines = []
    for name in mapping.add:
        column = columns[name]
        lines.append(f"+ {name} ← {column.dotted_path} ({column.type})")
    for old, new in mapping.rename.items():
        column = columns[new]
        lines.append(f"~ {old} → {new} ({column.dotted_path}, {column.type})")
    for name in mapping.drop:
        lines.append(f"- {name}")
    lines.append(f"{len(columns)} columns ({defaults} by default)")
    return lines


def _freshness(dataflow: Dataflow) -> str:
    windows = freshness_windows(dataflow)
    return windows.describe() if windows else "not rated (the dataflow does not load again)"


def review_dataflow(dataflow: Dataflow, now: datetime, names: DagsterNames = DagsterNames()) -> list[str]:
    resource = dataflow.declaration
    status = "enabled: schedule starts RUNNING" if dataflow.enabled else "disabled: schedule starts STOPPED"
    lines = [
        f"{dataflow.name} ({status})",
        _line(
            "resource",
            f"{resource.name} ({resource.path}) → asset {names.asset(resource.name)} in group {resource.group}, "
            f"table {resource.table}",
        ),
        _line("schedule", describe_schedule(dataflow)),
        _more(f"Dagster schedule {schedule_name(dataflow)}{names.schedule_suffix}, cron '{cron_for(dataflow)}' UTC"),
        _line("next runs", _next_runs(dataflow, now)),
        _line("partitions", _partitions(dataflow, now)),
        _line("backfill", _backfill(dataflow)),
        _line("freshness", _freshness(dataflow)),
        _line("validation", _validation(dataflow)),
        _line("changes", _changes(dataflow)),
        _line("alerts", _alerts(dataflow)),
    ]
    mapping = _mapping(dataflow)
    lines.append(_line("mapping", mapping[0]))
    lines.extend(_more(text) for text in mapping[1:])
    lines.extend(_line("WARNING", w) for w in partition_warnings(dataflow, now))
    return lines


def review(config: DataflowsConfig, source: str, now: datetime, names: DagsterNames = DagsterNames()) -> str:
    """The whole review as printed by `stripe-assets dataflows`, naming the Dagster parts as `names` says."""
    now = utc(now)
    lines = [
        f"{len(config.dataflows)} dataflow{'s' if len(config.dataflows) != 1 else ''} from {source}, "
        f"reviewed at {when(now)}",
        f"Dagster UI: {config.ui_base_url}",
        "Alert channels: "
        + "; ".join(f"{name} ({describe_channel(c)})" for name, c in config.channels.items()),
    ]
    for dataflow in config.dataflows:
        lines.append("")
        lines.extend(review_dataflow(dataflow, now, names))
    return "\n".join(lines) + "\n"


def review_json(
    config: DataflowsConfig, source: str, now: datetime, names: DagsterNames = DagsterNames()
) -> dict[str, Any]:
    """The review as data (`stripe-assets dataflows --json`): the same facts, machine-readable."""
    now = utc(now)
    return {
        "source": source,
        "reviewed_at": now.isoformat(),
        "ui_base_url": config.ui_base_url,
        "channels": {name: describe_channel(c) for name, c in config.channels.items()},
        "dataflows": [_dataflow_json(d, now, names) for d in config.dataflows],
    }


def _dataflow_json(dataflow: Dataflow, now: datetime, names: DagsterNames) -> dict[str, Any]:
    time = time_model(dataflow)
    count = time.count(now)
    windows = freshness_windows(dataflow)
    v, c = dataflow.validation, dataflow.changes
    return {
        "name": dataflow.name,
        "resource": dataflow.resource,
        "asset": names.asset(dataflow.resource),
        "group": dataflow.declaration.group,
        "table": dataflow.declaration.table,
        "enabled": dataflow.enabled,
        "schedule": describe_schedule(dataflow),
        "dagster_schedule": schedule_name(dataflow) + names.schedule_suffix,
        "cron": cron_for(dataflow),
        "next_runs": [t.isoformat() for t in next_ticks(dataflow, now, 3)],
        "partitions": {
            "frequency": dataflow.frequency,
            "first": time.key(time.first),
            "current": time.key(time.window_start(now)) if count else None,
            "count": count,
        },
        "backfill": dataflow.backfill,
        "history_start": dataflow.history_start.isoformat(),
        "freshness": (
            {
                "warn_after_seconds": windows.warn_after.total_seconds(),
                "fail_after_seconds": windows.fail_after.total_seconds(),
            }
            if windows
            else None
        ),
        "validation": {
            "threshold_pct": v.threshold_pct,
            "partial_ingestion": v.partial_ingestion,
            "diagnostics": v.diagnostics,
            "strict_enums": v.strict_enums,
        },
        "changes": {"mode": c.mode, "lookback": c.lookback, "horizon_days": c.horizon_days},
        "alerts": {"send": list(dataflow.alerts.send), "channels": list(dataflow.alerts.channels)},
        "columns": [{"name": col.name, "path": col.dotted_path, "type": col.type} for col in dataflow.columns()],
        "warnings": partition_warnings(dataflow, now),
    }
