"""One pass of the alert sensor: read status changes after the cursor, alert, return the new cursor.

The cursor is the only memory between passes. It advances past a status change only once every
channel that wants it has been tried (delivered or failed for good), and remembers channels
already done for changes it could not finish, so a restart neither resends nor skips an alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field, ValidationError

from stripe_assets.alerts.alert import Alert
from stripe_assets.alerts.alert_log import AlertLogError, append_record, delivered_pairs
from stripe_assets.alerts.build import build_alert, minimal_alert, run_target
from stripe_assets.alerts.channels import make_senders
from stripe_assets.alerts.dispatch import Delivery, DispatchResult, Job, OnDelivery, dispatch
from stripe_assets.alerts.routes import AlertRoutes
from stripe_assets.alerts.status_feed import StatusChange, fetch_status_changes, latest_storage_id

DEFAULT_BATCH_SIZE = 100
# Sensor evaluations time out after 60 s by default: finish well within it, leave the rest pending.
DEFAULT_BUDGET_SECONDS = 40.0
# On the very first pass, runs that changed status this recently still get their alerts
# (e.g. a run launched while `dagster dev` was starting); older history does not.
DEFAULT_INITIAL_LOOKBACK_SECONDS = 600.0


class RetryState(BaseModel):
    attempts: int = Field(description="Attempts the alert had on the channel so far.")
    at: float = Field(description="Unix time before which it is not tried again.")


class AlertCursor(BaseModel):
    after: int | None = Field(None, description="Every status change up to this storage id is handled.")
    done: dict[int, list[str]] = Field(
        default_factory=dict, description="Later changes: channels already handled."
    )
    retry: dict[int, dict[str, RetryState]] = Field(
        default_factory=dict, description="Later changes: channels whose alert failed and is retried."
    )

    @classmethod
    def parse(cls, raw: str | None, logger: Any) -> AlertCursor:
        if not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            logger.warning(f"alert cursor {raw[:80]!r} is not valid; starting from recent runs")
            return cls()


@dataclass
class TickOutcome:
    cursor: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    pending: int = 0
    status_changes: int = 0
    retrying: int = 0  # pending alerts that failed and wait for their backoff

    def summary(self) -> str:
        failed = [d for d in self.deliveries if not d.delivered]
        text = (
            f"{self.status_changes} run status change(s), {len(self.alerts)} alert(s): "
            f"{len(self.deliveries) - len(failed)} delivered, {len(failed)} failed, {self.pending} pending"
            + (f" ({self.retrying} retried later)" if self.retrying else "")
        )
        if failed:
            text += "; " + "; ".join(f"{d.channel} {d.alert_id}: {d.error}" for d in failed[:3])
        return text


def run_alert_tick(
    instance: dg.DagsterInstance,
    cursor: str | None,
    routes: AlertRoutes,
    *,
    logger: logging.Logger | Any,
    batch_size: int = DEFAULT_BATCH_SIZE,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    initial_lookback_seconds: float = DEFAULT_INITIAL_LOOKBACK_SECONDS,
) -> TickOutcome:
    deadline = time.monotonic() + budget_seconds
    state = AlertCursor.parse(cursor, logger)
    if state.after is None:
        newest = latest_storage_id(instance)
        changes = fetch_status_changes(
            instance,
            after_storage_id=None,
            after_timestamp=time.time() - initial_lookback_seconds,
            limit=batch_size,
        )
        if not changes:
            return TickOutcome(cursor=AlertCursor(after=newest).model_dump_json())
    else:
        changes = fetch_status_changes(instance, after_storage_id=state.after, limit=batch_size)
        if not changes:
            return TickOutcome(cursor=state.model_dump_json())

    jobs = [job for change in changes if (job := _job(instance, change, routes, state, logger))]
    jobs = _not_yet_delivered(jobs, routes, logger)
    jobs, waiting = _due(jobs, state)
    senders = make_senders({n: routes.all_channels[n] for job in jobs for n in job.channels}, logger)
    result = dispatch(jobs, senders, deadline, on_delivery=delivery_recorder(routes, logger))
    result.pending |= waiting
    advanced = _advance(state, changes, jobs, result)
    return TickOutcome(
        cursor=advanced.model_dump_json(),
        alerts=[job.alert for job in jobs],
        deliveries=result.deliveries,
        pending=len(result.pending),
        status_changes=len(changes),
        retrying=sum(len(channels) for channels in advanced.retry.values()),
    )


def _due(jobs: list[Job], state: AlertCursor) -> tuple[list[Job], set[tuple[Hashable, str]]]:
    """The jobs' channels due now, with their earlier attempts, and the (key, channel) pairs still
    waiting out a retry backoff (pending, untried in this pass)."""
    now = time.time()
    due, waiting = [], set()
    for job in jobs:
        retries = state.retry.get(job.key, {}) if isinstance(job.key, int) else {}
        channels = []
        for channel in job.channels:
            retry = retries.get(channel)
            if retry is not None and retry.at > now:
                waiting.add((job.key, channel))
            else:
                channels.append(channel)
        if channels:
            attempts = {c: retries[c].attempts for c in channels if c in retries}
            due.append(Job(job.key, job.alert, tuple(channels), attempts))
    return due, waiting


def _job(
    instance: dg.DagsterInstance, change: StatusChange, routes: AlertRoutes, state: AlertCursor, logger: Any
) -> Job | None:
    run = instance.get_run_by_id(change.run_id)
    if run is None:
        logger.warning(f"run {change.run_id} changed status to {change.status} but is gone; no alert")
        return None
    target = run_target(instance, run, change, routes)
    already = set(state.done.get(change.storage_id, ()))
    channels = tuple(c for c in target.channels if c not in already)
    if not channels:
        return None
    try:
        alert = build_alert(instance, run, change, target, routes)
    except Exception as exc:  # the alert still goes out, with what is known
        logger.exception(f"reading details of run {run.run_id} for its {change.status} alert")
        alert = minimal_alert(run.run_id, change, target, routes, f"{type(exc).__name__}: {exc}")
    return Job(change.storage_id, alert, channels)


def _not_yet_delivered(jobs: list[Job], routes: AlertRoutes, logger: Any) -> list[Job]:
    """Drop channels the alert log shows as delivered already.

    The cursor is stored only after a pass returns; if the process died after delivering but
    before that, the replayed pass would otherwise send those alerts a second time.
    """
    if not jobs:
        return jobs
    try:
        sent = delivered_pairs(routes.alert_log_paths(), {job.alert.alert_id for job in jobs})
    except OSError as exc:
        logger.warning(f"could not read the alert log to skip alerts already delivered: {exc}")
        return jobs
    kept = []
    for job in jobs:
        channels = tuple(c for c in job.channels if (job.alert.alert_id, c) not in sent)
        if channels != job.channels:
            already = ", ".join(sorted(set(job.channels) - set(channels)))
            logger.info(f"alert {job.alert.alert_id} already delivered to {already}")
        if channels:
            kept.append(Job(job.key, job.alert, channels, job.attempts))
    return kept


def _advance(state: AlertCursor, changes: list[StatusChange], jobs: list[Job], result: DispatchResult) -> AlertCursor:
    channels_of = {job.key: job.channels for job in jobs}
    after = state.after if state.after is not None else changes[0].storage_id - 1
    done: dict[int, list[str]] = {}
    retry: dict[int, dict[str, RetryState]] = {}
    finished_prefix = True
    for change in changes:
        key = change.storage_id
        pending = {ch for k, ch in result.pending if k == key}
        if finished_prefix and not pending:
            after = key
            continue
        finished_prefix = False
        handled = set(state.done.get(key, ())) | (set(channels_of.get(key, ())) - pending)
        done[key] = sorted(handled)
        for channel in sorted(pending):
            # A round that failed now, else the state it had (untried in this pass).
            new = result.retries.get((key, channel))
            if new is not None:
                retry.setdefault(key, {})[channel] = RetryState(attempts=new.attempts, at=new.at)
            elif channel in state.retry.get(key, {}):
                retry.setdefault(key, {})[channel] = state.retry[key][channel]
    return AlertCursor(after=after, done=done, retry=retry)


def delivery_recorder(routes: AlertRoutes, logger: Any) -> OnDelivery:
    """Records each delivery, good or bad, in the alert log(s) and the sensor's log."""
    paths = routes.alert_log_paths()

    def record(d: Delivery) -> None:
        if d.delivered:
            logger.info(f"alert {d.alert_id} delivered to {d.channel} ({d.attempts} attempt(s), {d.seconds:.2f} s)")
        else:
            logger.warning(f"alert {d.alert_id} NOT delivered to {d.channel}: {d.error}")
        for path in paths:
            try:
                append_record(path, {"record": "delivery", **d.model_dump(mode="json")})
            except AlertLogError as exc:
                logger.error(f"could not record delivery of {d.alert_id} to {d.channel}: {exc}")

    return record
