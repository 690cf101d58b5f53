"""Deliver a batch of alerts to their channels: channels in parallel, each channel in alert order.

Every channel gets its own lane (thread), so a channel that is down or slow delays only itself.
Within a lane alerts go out in order (a run's start before its success). Once a channel proved
unreachable in this batch, its remaining alerts are recorded as failed at once instead of each
waiting out the same timeout. Nothing starts after `deadline`; what did not start stays pending.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel

from stripe_assets.alerts.alert import Alert
from stripe_assets.alerts.channels import DeliveryError, Sender
from stripe_assets.dataflows.alert_settings import RunStatus

# How long past the deadline a lane may still be finishing an attempt before it is abandoned.
OVERRUN_GRACE_SECONDS = 2.0


class Delivery(BaseModel):
    """The outcome of sending one alert to one channel (one line of the alert log)."""

    alert_id: str
    run_id: str
    alert_status: RunStatus
    channel: str
    channel_type: str
    delivered: bool
    attempts: int
    seconds: float
    error: str | None = None
    at: datetime
    test: bool = False


@dataclass(frozen=True)
class Job:
    key: Hashable  # identifies the alert's source (the status event's storage id)
    alert: Alert
    channels: tuple[str, ...]


@dataclass
class DispatchResult:
    deliveries: list[Delivery] = field(default_factory=list)
    # (job key, channel) pairs that did not start before the deadline
    pending: set[tuple[Hashable, str]] = field(default_factory=set)


@dataclass
class _Lane:
    sender: Sender
    jobs: list[Job]
    lock: threading.Lock = field(default_factory=threading.Lock)
    results: list[tuple[Hashable, Delivery]] = field(default_factory=list)
    next_index: int = 0
    in_flight: tuple[Job, float] | None = None
    abandoned: bool = False


def _delivery(
    job: Job, sender: Sender, *, delivered: bool, attempts: int, seconds: float, error: str | None
) -> Delivery:
    return Delivery(
        alert_id=job.alert.alert_id,
        run_id=job.alert.run_id,
        alert_status=job.alert.status,
        channel=sender.name,
        channel_type=sender.kind,
        delivered=delivered,
        attempts=attempts,
        seconds=round(seconds, 3),
        error=error,
        at=datetime.now(UTC),
        test=job.alert.test,
    )


OnDelivery = Callable[[Delivery], None]


def _report(on_delivery: OnDelivery | None, delivery: Delivery) -> None:
    if on_delivery is not None:
        with contextlib.suppress(Exception):  # recording must never stop delivering
            on_delivery(delivery)


def _run_lane(lane: _Lane, deadline: float, on_delivery: OnDelivery | None) -> None:
    down: str | None = None
    while True:
        with lane.lock:
            if lane.abandoned or lane.next_index >= len(lane.jobs):
                return
            job = lane.jobs[lane.next_index]
            if down is None and time.monotonic() >= deadline:
                return  # the rest stays pending for the next batch
            lane.next_index += 1
            if down is not None:
                skipped = _delivery(
                    job,
                    lane.sender,
                    delivered=False,
                    attempts=0,
                    seconds=0.0,
                    error=f"not attempted: channel unreachable earlier in this batch ({down})",
                )
                lane.results.append((job.key, skipped))
                _report(on_delivery, skipped)
                continue
            started = time.monotonic()
            lane.in_flight = (job, started)
        try:
            attempts = lane.sender.send(job.alert, deadline)
            outcome = _delivery(
                job, lane.sender, delivered=True, attempts=attempts, seconds=time.monotonic() - started, error=None
            )
        except DeliveryError as exc:
            outcome = _delivery(
                job,
                lane.sender,
                delivered=False,
                attempts=exc.attempts,
                seconds=time.monotonic() - started,
                error=str(exc),
            )
            if exc.out_of_time:
                # The batch ran out of time, not the channel out of chances: this alert and the
                # rest stay pending for the next batch (a failed attempt is still logged).
                with lane.lock:
                    lane.in_flight = None
                if exc.attempts:
                    _report(on_delivery, outcome)
                return
            if exc.unreachable:
                down = str(exc)
        except Exception as exc:  # a bug in one channel must not stop the others
            outcome = _delivery(
                job,
                lane.sender,
                delivered=False,
                attempts=1,
                seconds=time.monotonic() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
        with lane.lock:
            if lane.abandoned:
                return
            lane.in_flight = None
            lane.results.append((job.key, outcome))
        _report(on_delivery, outcome)


def dispatch(
    jobs: list[Job], senders: dict[str, Sender], deadline: float, on_delivery: OnDelivery | None = None
) -> DispatchResult:
    """Send each job's alert to each of its channels; returns outcomes in job order per channel.

    `on_delivery` sees each outcome as soon as it is known (to record it before anything else
    can interrupt the batch).
    """
    lanes: dict[str, _Lane] = {}
    for job in jobs:
        for channel in job.channels:
            lanes.setdefault(channel, _Lane(senders[channel], [])).jobs.append(job)
    threads = {
        name: threading.Thread(target=_run_lane, args=(lane, deadline, on_delivery), name=f"alerts-{name}", daemon=True)
        for name, lane in lanes.items()
    }
    for thread in threads.values():
        thread.start()
    result = DispatchResult()
    hard_stop = deadline + OVERRUN_GRACE_SECONDS
    for name, lane in lanes.items():
        threads[name].join(max(0.0, hard_stop - time.monotonic()))
        with lane.lock:
            lane.abandoned = True
            if lane.in_flight is not None:
                # Still inside a send past the hard stop: count it as failed rather than resend it.
                job, started = lane.in_flight
                overrun = _delivery(
                    job,
                    lane.sender,
                    delivered=False,
                    attempts=1,
                    seconds=time.monotonic() - started,
                    error="no answer before the alert batch deadline",
                )
                lane.results.append((job.key, overrun))
                _report(on_delivery, overrun)
            done = {key for key, _ in lane.results}
            result.deliveries.extend(d for _, d in lane.results)
            result.pending.update((job.key, name) for job in lane.jobs if job.key not in done)
    return result
