"""Build the `Alert` for one run status change from the run record and the run's event log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from stripe_assets.alerts.alert import Alert, run_url
from stripe_assets.alerts.routes import ASSET_KEY_PREFIX, AlertRoutes, DataflowAlerts
from stripe_assets.alerts.status_feed import StatusChange
from stripe_assets.ingest.redact import redact

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
MAX_ERROR_CHARS = 500
NOTE_KEY = "changes_fallback"  # observation metadata the alert repeats: why a run re-read partitions

E = dg.DagsterEventType


@dataclass(frozen=True)
class RunTarget:
    """The dataflows a run materializes and the channels that want to hear about this status."""

    dataflows: list[DataflowAlerts]
    channels: list[str]


def planned_asset_keys(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[list[str]]:
    """Asset keys the run set out to materialize (recorded when the run was created)."""
    records = instance.get_records_for_run(run.run_id, of_type=E.ASSET_MATERIALIZATION_PLANNED).records
    keys = [list(r.asset_key.path) for r in records if r.asset_key is not None]
    if not keys and run.asset_selection:
        keys = [list(k.path) for k in run.asset_selection]
    return list({tuple(k): k for k in keys}.values())


def run_target(
    instance: dg.DagsterInstance, run: dg.DagsterRun, change: StatusChange, routes: AlertRoutes
) -> RunTarget:
    flows = routes.for_asset_keys(planned_asset_keys(instance, run))
    return RunTarget(flows, routes.channels_for(flows, change.status))


def build_alert(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    change: StatusChange,
    target: RunTarget,
    routes: AlertRoutes,
) -> Alert:
    record = instance.get_run_record_by_id(run.run_id)
    started = _ts(record.start_time if record else None) or (
        _ts(change.timestamp) if change.status == "start" else None
    )
    ended = None if change.status == "start" else (_ts(record.end_time if record else None) or _ts(change.timestamp))
    fields: dict[str, Any] = {}
    if change.status != "start":
        fields.update(_record_counts(instance, run.run_id))
    if change.status == "failure":
        fields.update(run_failure(instance, run.run_id))
    notes = _notes(instance, run.run_id)
    return Alert(
        alert_id=f"{run.run_id}:{change.status}",
        status=change.status,
        dataflows=[f.name for f in target.dataflows],
        resources=list(dict.fromkeys(f.resource for f in target.dataflows)),
        run_id=run.run_id,
        job_name=run.job_name,
        partition=run.tags.get(PARTITION_TAG),
        partition_range_start=run.tags.get(RANGE_START_TAG),
        partition_range_end=run.tags.get(RANGE_END_TAG),
        started_at=started,
        ended_at=ended,
        duration_seconds=round((ended - started).total_seconds(), 3) if started and ended else None,
        run_url=run_url(routes.ui_base_url, run.run_id),
        notes=notes,
        **fields,
    )


def minimal_alert(run_id: str, change: StatusChange, target: RunTarget, routes: AlertRoutes, problem: str) -> Alert:
    """What still goes out when the run's details cannot be read: who, what, where to look."""
    return Alert(
        alert_id=f"{run_id}:{change.status}",
        status=change.status,
        dataflows=[f.name for f in target.dataflows],
        resources=list(dict.fromkeys(f.resource for f in target.dataflows)),
        run_id=run_id,
        error=f"run details unavailable: {problem}" if change.status == "failure" else None,
        run_url=run_url(routes.ui_base_url, run_id),
    )


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


CHECK_NAME = "schema_validation"


def _notes(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """What the assets observed while running that the alert repeats, e.g. partitions re-read
    because events could not be used; each once, in the order observed."""
    found: dict[str, None] = {}
    for r in instance.get_records_for_run(run_id, of_type=E.ASSET_OBSERVATION).records:
        observation = r.event_log_entry.asset_observation
        note = observation.metadata.get(NOTE_KEY) if observation is not None else None
        if note is not None:
            found[str(note.value)] = None
    return list(found)


def _record_counts(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """Loaded / rejected records of the run, from its event log: each partition's
    `schema_validation` result counts accepted and rejected partitions alike (a rejected
    partition has no materialization); runs without one fall back to the materializations."""
    per_partition: dict[tuple[tuple[str, ...], str | None], tuple[int, int, int]] = {}
    for r in instance.get_records_for_run(run_id, of_type=E.ASSET_CHECK_EVALUATION).records:
        event = r.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event is not None else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.check_name != CHECK_NAME:
            continue
        if evaluation.asset_key.path[0] != ASSET_KEY_PREFIX or "per_partition" in evaluation.metadata:
            continue  # another asset's check, or a ranged run's summary of the partitions counted here
        counts = _counts(evaluation.metadata)
        if counts is not None:  # a partition evaluated twice (fetched again) counts once, as last seen
            per_partition[(tuple(evaluation.asset_key.path), evaluation.partition)] = counts
    if not per_partition:
        for r in instance.get_records_for_run(run_id, of_type=E.ASSET_MATERIALIZATION).records:
            materialization = r.event_log_entry.asset_materialization
            if r.asset_key is None or r.asset_key.path[0] != ASSET_KEY_PREFIX or materialization is None:
                continue
            counts = _counts(materialization.metadata)
            if counts is not None:
                per_partition[(tuple(r.asset_key.path), materialization.partition)] = counts
    if not per_partition:
        return {}
    loaded = sum(c[0] for c in per_partition.values())
    rejected = sum(c[1] for c in per_partition.values())
    total = sum(c[2] for c in per_partition.values())  # a rejected partition's valid records count too
    return {
        "records_loaded": loaded,
        "records_rejected": rejected,
        "error_rate_pct": round(100.0 * rejected / total, 4) if total else 0.0,
    }


def _counts(metadata: Any) -> tuple[int, int, int] | None:
    """(loaded, rejected, fetched) as a partition's metadata states them."""
    if "records_loaded" not in metadata and "records_rejected" not in metadata:
        return None
    loaded = int(_metadata_value(metadata.get("records_loaded", 0)) or 0)
    rejected = int(_metadata_value(metadata.get("records_rejected", 0)) or 0)
    fetched = int(_metadata_value(metadata.get("records_fetched", loaded + rejected)) or 0)
    return loaded, rejected, max(fetched, loaded + rejected)


def run_failure(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """The first failed step and its error line; the run's own error when no step failed."""
    step_failures = instance.get_records_for_run(run_id, of_type=E.STEP_FAILURE).records
    if step_failures:
        event = step_failures[0].event_log_entry.dagster_event
        assert event is not None
        data = event.step_failure_data
        fields: dict[str, Any] = {"failed_step": event.step_key, "error": _step_error(data)}
        user = data.user_failure_data
        if user and user.metadata:
            # The failing partitions are not materialized: their figures come with the failure.
            for name in ("records_loaded", "records_rejected", "error_rate_pct"):
                if name in user.metadata:
                    fields[name] = _metadata_value(user.metadata[name])
        if len(step_failures) > 1:
            fields["error"] += f" (and {len(step_failures) - 1} more failed step(s))"
        return fields
    run_failures = instance.get_records_for_run(run_id, of_type=E.RUN_FAILURE).records
    if run_failures:
        event = run_failures[-1].event_log_entry.dagster_event
        assert event is not None
        error = getattr(event.event_specific_data, "error", None) or _engine_error(instance, run_id)
        if error is not None:
            return {"error": _changed_definitions(error) or _error_line(error)}
        return {"error": _first_line(event.message or "")}
    return {"error": None}


def _engine_error(instance: dg.DagsterInstance, run_id: str) -> Any:
    """The error a run worker reported before the run was marked failed without one (it could
    not even build the run's plan)."""
    for record in reversed(instance.get_records_for_run(run_id, of_type=E.ENGINE_EVENT).records):
        event = record.event_log_entry.dagster_event
        error = getattr(event.event_specific_data, "error", None) if event is not None else None
        if error is not None:
            return error
    return None


_MISSING_KEYS = re.compile(r"AssetKey\(s\) \[([^\]]*)\] were selected, but no AssetsDefinition")
_UNKNOWN_STEPS = re.compile(r"unknown steps?: ?\[?([^\]\n]*)")


def _changed_definitions(error: Any) -> str | None:
    """A run whose assets or steps the code location no longer defines: its dataflows file
    changed after the run was queued (a dataflow removed, its checks or partitions changed)."""
    while error is not None:
        keys = _MISSING_KEYS.search(error.message or "")
        steps = _UNKNOWN_STEPS.search(error.message or "")
        if keys or steps:
            if keys:
                names = [k.strip(" '\"") for k in keys.group(1).split(",") if k.strip(" '\"")]
                resources = [n.removeprefix(ASSET_KEY_PREFIX + "/") for n in names]
                what = (
                    f"asset {', '.join(names)} is no longer defined "
                    f"(the dataflow of {', '.join(resources)} was removed?)"
                )
            else:
                what = f"step {steps.group(1).strip()} is no longer defined" if steps else ""
            return (
                f"the dataflows file changed after this run was queued: {what}; "
                "launch the run again for what the file defines now"
            )
        error = error.cause
    return None


def _step_error(data: Any) -> str:
    user = data.user_failure_data
    if user and user.description:  # dg.Failure(description=...): the asset's own message
        return _first_line(user.description)
    return _error_line(data.error)


def _error_line(error: Any) -> str:
    """First meaningful line of the innermost user error under Dagster's wrapper errors."""
    while error.cause is not None and error.message.startswith("dagster._core.errors."):
        error = error.cause
    return _first_line(_short_class(error.message, error.cls_name))


_QUALIFIED = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?P<cls>[A-Za-z_]\w*): ")


def _short_class(message: str, cls_name: str | None) -> str:
    # "dagster._core.definitions.events.Failure: msg" -> "msg"; "pkg.mod.KeyError: x" -> "KeyError: x"
    match = _QUALIFIED.match(message)
    if not match:
        return message
    rest = message[match.end() :]
    return rest if match["cls"] == "Failure" else f"{match['cls']}: {rest}"


def _first_line(text: str) -> str:
    text = redact(text)  # errors quote what libraries were given, keys included
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback (most recent call last)", "Stack Trace:")):
            return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"
    return text.strip()[:MAX_ERROR_CHARS]
