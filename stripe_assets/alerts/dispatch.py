"""Deliver a batch of alerts to their channels: channels in parallel, each channel in alert order.

Every channel gets its own lane (thread), so a channel that is down or slow delays only itself.
Within a lane alerts go out in order (a run's start before its success). Each (alert, channel)
keeps its own delivery state across batches: the attempts it has had and when it may be tried
again. An alert that fails is retried with backoff in later batches until its channel's attempts
are spent, then recorded as failed; meanwhile later alerts of that channel are still tried.
Once a channel proved unreachable in a batch, its remaining alerts wait for the next batch
(untried, so they lose no attempt). Nothing starts after `deadline`.
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
    """The outcome of one delivery round of one alert to one channel (one line of the alert log)."""

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
    retry_at: datetime | None = None  # a failed round that will be retried then (not final)


@dataclass(frozen=True)
class Job:
    key: Hashable  # identifies the alert's source (the status event's storage id)
    alert: Alert
    channels: tuple[str, ...]
    attempts: dict[str, int] = field(default_factory=dict)  # per channel: attempts in earlier batches


@dataclass(frozen=True)
class Retry:
    """A failed round to repeat: attempts so far, and not before `at` (Unix time)."""

    attempts: int
    at: float


@dataclass
class DispatchResult:
    deliveries: list[Delivery] = field(default_factory=list)
    # (job key, channel) pairs not finished: untried, or failed and to be retried later
    pending: set[tuple[Hashable, str]] = field(default_factory=set)
    retries: dict[tuple[Hashable, str], Retry] = field(default_factory=dict)  # among `pending`


@dataclass
class _Lane:
    sender: Sender
    jobs: list[Job]
    lock: threading.Lock = field(default_factory=threading.Lock)
    results: list[tuple[Hashable, Delivery]] = field(default_factory=list)  # finished pairs
    retries: dict[Hashable, Retry] = field(default_factory=dict)  # failed rounds to repeat
    next_index: int = 0
    in_flight: tuple[Job, float] | None = None
    abandoned: bool = False


def _delivery(
    job: Job, sender: Sender, *, delivered: bool, attempts: int, seconds: float, error: str | None,
    retry_at: float | None = None,
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
        retry_at=datetime.fromtimestamp(retry_at, UTC) if retry_at is not None else None,
    )


# The wait before an alert whose round ran out of time is tried again, at least (a sensor ticks
# every 15 s: sooner would mean every tick).
MIN_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 15 * 60.0


def _retry_delay(attempts: int, suggested: float | None) -> float:
    backoff = MIN_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(max(backoff, suggested or 0.0), MAX_RETRY_SECONDS)


OnDelivery = Callable[[Delivery], None]


def _report(on_delivery: OnDelivery | None, delivery: Delivery) -> None:
    if on_delivery is not None:
        with contextlib.suppress(Exception):  # recording must never stop delivering
            on_delivery(delivery)


def _run_lane(lane: _Lane, deadline: float, on_delivery: OnDelivery | None) -> None:
    while True:
        with lane.lock:
            if lane.abandoned or lane.next_index >= len(lane.jobs) or time.monotonic() >= deadline:
                return  # the rest stays pending for the next batch
            job = lane.jobs[lane.next_index]
            lane.next_index += 1
            started = time.monotonic()
            lane.in_flight = (job, started)
        prior = job.attempts.get(lane.sender.name, 0)
        left = max(lane.sender.max_attempts - prior, 1)
        channel_down = False
        try:
            attempts = lane.sender.send(job.alert, deadline, left)
            outcome = _delivery(job, lane.sender, delivered=True, attempts=prior + attempts,
                                seconds=time.monotonic() - started, error=None)
        except DeliveryError as exc:
            total = prior + exc.attempts
            error = str(exc) if not prior else f"{exc}; {total} attempts in all"
            if exc.out_of_time and not exc.attempts:  # no time left to even try: next batch
                with lane.lock:
                    lane.in_flight = None
                return
            if exc.out_of_time and total < lane.sender.max_attempts:
                # Not the channel's chances that ran out but the batch's time: this alert is tried
                # again after a backoff, in a later batch; the rest of the lane waits for the next.
                retry = Retry(total, time.time() + _retry_delay(total, exc.retry_in))
                with lane.lock:
                    lane.in_flight = None
                    if lane.abandoned:
                        return
                    lane.retries[job.key] = retry
                _report(on_delivery, _delivery(job, lane.sender, delivered=False, attempts=total,
                                               seconds=time.monotonic() - started, error=error,
                                               retry_at=retry.at))
                return
            outcome = _delivery(job, lane.sender, delivered=False, attempts=total,
                                seconds=time.monotonic() - started, error=error)
            channel_down = exc.unreachable
        except Exception as exc:  # a bug in one channel must not stop the others
            outcome = _delivery(job, lane.sender, delivered=False, attempts=prior + 1,
                                seconds=time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")
        with lane.lock:
            if lane.abandoned:
                return
            lane.in_flight = None
            lane.results.append((job.key, outcome))
        _report(on_delivery, outcome)
        if channel_down:
            return  # its later alerts wait for the next batch, untried: no attempt is lost


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
                # Still inside a send past the hard stop: an attempt spent, retried later.
                job, started = lane.in_flight
                total = job.attempts.get(name, 0) + 1
                if total < lane.sender.max_attempts:
                    lane.retries[job.key] = Retry(total, time.time() + _retry_delay(total, None))
                    error = "no answer before the alert batch deadline; retried in a later batch"
                    overrun = _delivery(job, lane.sender, delivered=False, attempts=total,
                                        seconds=time.monotonic() - started, error=error,
                                        retry_at=lane.retries[job.key].at)
                else:
                    overrun = _delivery(job, lane.sender, delivered=False, attempts=total,
                                        seconds=time.monotonic() - started,
                                        error="no answer before the alert batch deadline")
                    lane.results.append((job.key, overrun))
                _report(on_delivery, overrun)
            done = {key for key, _ in lane.results}
            result.deliveries.extend(d for _, d in lane.results)
            result.pending.update((job.key, name) for job in lane.jobs if job.key not in done)
            result.retries.update(((key, name), retry) for key, retry in lane.retries.items())
    return result
