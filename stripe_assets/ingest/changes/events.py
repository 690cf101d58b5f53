"""Reading a resource's Events since its cursor, collapsed to the newest change per object.

`GET /v1/events` lists newest first, so paging with `starting_after` from the top down to the
cursor event sees each object's newest change first; older changes of the same object are
counted and dropped. Stripe lists only the last 30 days of events: when the cursor event is no
longer listed, changes between it and the oldest listed event may be gone, and the scan says so
(`stale`) instead of applying a partial set. A key without permission to read events (HTTP 403)
is reported the same way, with the permission to grant.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.changes.cursor import Cursor
from stripe_assets.ingest.client import FetchStats, StripePermissionError, StripeReader, StripeReadError
from stripe_assets.ingest.pages import PAGE_LIMIT

EVENTS_PATH = "/v1/events"
RETENTION = timedelta(days=30)  # Stripe lists the events of the last 30 days

# Events about another object that change one of ours without an event of its own: a dispute
# marks its charge `disputed` (Stripe sends `charge.dispute.*`, carrying the dispute). The value
# names the field of `data.object` holding our object's id; such objects are always retrieved.
RELATED_EVENTS: Mapping[str, Mapping[str, str]] = {
    "charges": {
        "charge.dispute.closed": "charge",
        "charge.dispute.created": "charge",
        "charge.dispute.funds_reinstated": "charge",
        "charge.dispute.funds_withdrawn": "charge",
        "charge.dispute.updated": "charge",
    },
}

NO_EVENT_PERMISSION = (
    "the API key may not read events (HTTP 403 from /v1/events): grant it the `rak_event_read` "
    'permission ("Events: Read" on a restricted key) so loads can apply updates and deletions'
)


@dataclass(frozen=True)
class Change:
    """The newest change of one object: its event, and whether it must be retrieved."""

    object_id: str
    event_type: str
    event_created: int
    api_version: str | None
    state: dict[str, Any] | None  # data.object when it is our object; None for related events
    deleted: bool


@dataclass
class EventScan:
    """What the events since the cursor say, or why they cannot be trusted (`stale`)."""

    changes: dict[str, Change] = field(default_factory=dict)  # object id -> newest change
    events_read: int = 0
    newest: tuple[str, int] | None = None  # (event id, created) of the newest event listed
    stale: str | None = None  # why the warehouse must be re-read from the list endpoints

    def next_cursor(self, previous: Cursor | None, run_id: str, now: datetime) -> Cursor:
        if self.newest is not None:
            return Cursor(self.newest[0], self.newest[1], now, run_id)
        if previous is not None:  # nothing new: the same event, confirmed now
            return Cursor(previous.event_id, previous.event_created, now, run_id)
        return Cursor(None, None, now, run_id)


def event_types(resource: StripeResource) -> list[str]:
    return sorted({*resource.events, *RELATED_EVENTS.get(resource.name, {})})


def read_changes(
    reader: StripeReader,
    resource: StripeResource,
    cursor: Cursor | None,
    stats: FetchStats,
    *,
    now: datetime | None = None,
) -> EventScan:
    """Every change to `resource` since `cursor` (None: since the oldest listed event)."""
    scan = EventScan()
    now = now or datetime.now(UTC)
    if cursor is not None and cursor.event_id is None and now - cursor.recorded_at > RETENTION:
        scan.stale = (
            f"the change cursor was set {_age(now - cursor.recorded_at)} ago, longer than Stripe's "
            "30-day event retention"
        )
        return scan
    params: dict[str, Any] = {"limit": PAGE_LIMIT, "types": event_types(resource)}
    if cursor is not None and cursor.event_created is not None:
        params["created"] = {"gte": cursor.event_created}
    related = RELATED_EVENTS.get(resource.name, {})
    deletions = set(resource.deletion_events)
    reached = cursor is None or cursor.event_id is None
    began = time.perf_counter()
    try:
        while True:
            try:
                page = reader.get_list_page(EVENTS_PATH, params, stats)
            except StripePermissionError:
                scan.stale = NO_EVENT_PERMISSION
                return scan
            data = page.get("data")
            if page.get("object") != "list" or not isinstance(data, list):
                raise ValueError(f"{EVENTS_PATH} did not return a list object")
            stats.pages += 1
            for position, event in enumerate(data):
                if not isinstance(event, dict) or not isinstance(event.get("id"), str):
                    after = params.get("starting_after")
                    where = f"the page after {after}" if after else "the first page"
                    raise StripeReadError(
                        f"{EVENTS_PATH} listed {_what(event)} in place of an event (item {position + 1} of "
                        f"{where}): the changes after it cannot be read"
                    )
                if cursor is not None and event.get("id") == cursor.event_id:
                    reached = True
                    break
                scan.events_read += 1
                if scan.newest is None:
                    scan.newest = (event["id"], int(event["created"]))
                change = _change_of(event, resource, related, deletions)
                if change is not None and change.object_id not in scan.changes:
                    scan.changes[change.object_id] = change
            if reached and cursor is not None and cursor.event_id is not None:
                break
            if not page.get("has_more") or not data:
                break
            params["starting_after"] = data[-1]["id"]
    finally:
        stats.seconds += time.perf_counter() - began
    if not reached and cursor is not None:
        scan.stale = _why_not_listed(reader, resource, cursor, scan, stats, now)
    return scan


def _why_not_listed(
    reader: StripeReader, resource: StripeResource, cursor: Cursor, scan: EventScan, stats: FetchStats, now: datetime
) -> str:
    """Why the cursor's event is gone, as far as the API shows: aged out of the retention, or
    events reset under it (another account or key, a restarted emulator) while events of its
    time are still listed."""
    created = cursor.event_created or 0
    when = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = f"the change cursor (event {cursor.event_id} of {when}) is no longer listed by Stripe"
    older = reader.get_page(
        EVENTS_PATH, {"limit": 1, "types": event_types(resource), "created": {"lte": created}}, stats
    ).get("data")
    stats.pages += 1
    if older and scan.newest is None:
        return (
            f"{head}: it is dated after every event the API lists now, so the API's events were reset "
            "(another account or key, or a restarted emulator) and changes may be missing"
        )
    if older:
        return (
            f"{head}, though the API still lists events of that time (another account or key?), "
            "so changes may be missing"
        )
    if scan.newest is None and now - datetime.fromtimestamp(created, UTC) <= RETENTION:
        return f"{head}: the API lists no events since then, so its events were reset and changes may be missing"
    return f"{head}: it is older than the 30-day event retention, so changes may be missing"


def _change_of(
    event: dict[str, Any], resource: StripeResource, related: Mapping[str, str], deletions: set[str]
) -> Change | None:
    kind = event.get("type")
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(kind, str):
        return None
    if kind in related:
        target = obj.get(related[kind])
        target = target.get("id") if isinstance(target, dict) else target
        if not isinstance(target, str):
            return None
        return Change(target, kind, int(event["created"]), event.get("api_version"), None, False)
    if obj.get("object") != resource.object or not isinstance(obj.get("id"), str):
        return None
    deleted = kind in deletions or obj.get("deleted") is True
    return Change(obj["id"], kind, int(event["created"]), event.get("api_version"), obj, deleted)


def _age(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.1f} days" if days >= 1 else f"{delta.total_seconds() / 3600:.1f} hours"


def _what(item: object) -> str:
    if item is None:
        return "null"
    return "an object without an id" if isinstance(item, dict) else f"a {type(item).__name__}"
