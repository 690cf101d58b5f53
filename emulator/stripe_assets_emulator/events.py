"""The account's Events: one per change, kept in creation order, listed like `GET /v1/events`.

An event shows its object after the change (`data.object`) and, for changes to an existing
object, the changed fields' previous values (`data.previous_attributes`). Stripe lists only the
last 30 days of events, newest first; older ones cannot be listed, retrieved or used as cursors.
Event ids carry their sequence number (like object ids carry their position), so a cursor is
found without an index.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from stripe_assets_emulator import errors, ids
from stripe_assets_emulator.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    NO_UPPER_BOUND,
    parse_boolean,
    parse_created,
    parse_integer,
)
from stripe_assets_emulator.rng import Purpose

RETENTION_SECONDS = 30 * 86400  # Stripe lists events of the last 30 days
MAX_TYPES = 20  # `types[]` takes up to 20 names
_SEQ_WIDTH = 6
_TYPES = re.compile(r"types\[[0-9]*\]")
_EXPAND = re.compile(r"expand\[[0-9]*\]")


def previous_attributes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The changed fields with their old values: nested objects only with their changed keys,
    arrays whole, fields that did not exist before as null (Stripe's rendering)."""
    changed: dict[str, Any] = {}
    for name, value in new.items():
        if name not in old:
            changed[name] = None
            continue
        before = old[name]
        if before == value:
            continue
        if isinstance(before, dict) and isinstance(value, dict):
            changed[name] = previous_attributes(before, value)
        else:
            changed[name] = before
    for name, before in old.items():
        if name not in new:
            changed[name] = before
    return changed


def _seq_chars(seq: int) -> str:
    chars = []
    for _ in range(_SEQ_WIDTH):
        seq, digit = divmod(seq, len(ids.ALPHABET))
        chars.append(ids.ALPHABET[digit])
    return "".join(reversed(chars))


@dataclass
class EventQuery:
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    created_from: int = -NO_UPPER_BOUND
    created_until: int = NO_UPPER_BOUND
    type: str | None = None
    types: list[str] = field(default_factory=list)
    delivery_success: bool | None = None


def parse_event_list(pairs: Iterable[tuple[str, str]]) -> EventQuery:
    q = EventQuery()
    for name, value in pairs:
        if name == "limit":
            q.limit = parse_integer(name, value)
            if q.limit < 1:
                raise errors.invalid("This value must be greater than or equal to 1.", param="limit")
            if q.limit > MAX_LIMIT:
                raise errors.invalid(f"This value must be less than or equal to {MAX_LIMIT}.", param="limit")
        elif name in ("starting_after", "ending_before"):
            setattr(q, name, value or None)
        elif name == "created" or name.startswith("created["):
            low, high = parse_created(name, value)
            q.created_from, q.created_until = max(q.created_from, low), min(q.created_until, high)
        elif name == "type":
            q.type = value
        elif _TYPES.fullmatch(name) or name == "types":
            q.types.append(value)
        elif name == "delivery_success":
            q.delivery_success = parse_boolean(name, value)
        elif _EXPAND.fullmatch(name) or name == "expand":
            # Nothing in a list of events is expandable.
            raise errors.invalid(f"This property cannot be expanded ({value}).", param="expand")
        else:
            raise errors.unknown_parameter(name)
    if q.starting_after and q.ending_before:
        raise errors.invalid("You may only specify one of these parameters: ending_before, starting_after.")
    if q.type is not None and q.types:
        raise errors.invalid("You may pass either type or types, but not both.", param="types")
    if len(q.types) > MAX_TYPES:
        raise errors.invalid(f"You may pass at most {MAX_TYPES} types.", param="types")
    return q


class EventLog:
    def __init__(self, seed: int):
        self.seed = seed
        self.ids: list[str] = []
        self.types: list[str] = []
        self.created = array("q")
        self.bodies: list[bytes] = []

    def __len__(self) -> int:
        return len(self.ids)

    def new_id(self) -> str:
        seq = len(self.ids)
        tail = ids.random_chars(ids.BODY_LENGTH - _SEQ_WIDTH, self.seed, Purpose.EVENT, seq)
        return "evt_" + _seq_chars(seq) + tail

    def append(
        self,
        type: str,
        created: int,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
        api_version: str,
        account: str | None = None,
    ) -> str:
        if self.created and created < self.created[-1]:
            raise ValueError(f"event {type} at {created} is older than the last event")
        event_id = self.new_id()
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event: dict[str, Any] = {"id": event_id, "object": "event"}
        if account is not None:  # an event about a connected account names it
            event["account"] = account
        event |= {
            "api_version": api_version,
            "created": created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        self.ids.append(event_id)
        self.types.append(type)
        self.created.append(created)
        self.bodies.append(orjson.dumps(event))
        return event_id

    # reading -------------------------------------------------------------------------------

    def first_retained(self, now: int) -> int:
        """Index of the oldest event still within the retention period at `now`."""
        return bisect_left(self.created, now - RETENTION_SECONDS)

    def locate(self, event_id: str, now: int) -> int | None:
        """The index of a retained event, or None."""
        body = event_id[len("evt_") :] if event_id.startswith("evt_") else ""
        if len(body) != ids.BODY_LENGTH:
            return None
        seq = ids.decode(body[:_SEQ_WIDTH])
        if seq is None or seq >= len(self.ids) or self.ids[seq] != event_id:
            return None
        return seq if seq >= self.first_retained(now) else None

    def page(self, q: EventQuery, now: int) -> tuple[list[int], bool]:
        """Indexes of one page, newest first, and whether more lie beyond it."""
        low = max(self.first_retained(now), bisect_left(self.created, q.created_from))
        high = bisect_left(self.created, q.created_until)
        keep = _type_test(q)
        if q.delivery_success is False:  # no webhook endpoint: nothing is pending or failed
            high = low
        cursor_id = q.ending_before or q.starting_after
        if cursor_id is not None:
            cursor = self.locate(cursor_id, now)
            if cursor is None:
                name = "ending_before" if q.ending_before else "starting_after"
                raise errors.no_such("event", cursor_id, param=name)
            if q.ending_before:
                low = max(low, cursor + 1)
            else:
                high = min(high, cursor)
        walk = range(low, high) if q.ending_before else range(high - 1, low - 1, -1)
        found: list[int] = []
        for index in walk:
            if keep is None or keep(self.types[index]):
                found.append(index)
                if len(found) > q.limit:
                    break
        has_more = len(found) > q.limit
        found = found[: q.limit]
        if q.ending_before:  # collected going forward in time; pages read newest first
            found.reverse()
        return found, has_more

    def list_body(self, q: EventQuery, now: int) -> bytes:
        found, has_more = self.page(q, now)
        return b"".join(
            (
                b'{"object":"list","data":[',
                b",".join(self.bodies[i] for i in found),
                b'],"has_more":',
                b"true" if has_more else b"false",
                b',"url":"/v1/events"}',
            )
        )

    def retained(self, now: int) -> list[dict[str, Any]]:
        """Every event still listed at `now`, newest first."""
        return [orjson.loads(b) for b in reversed(self.bodies[self.first_retained(now) :])]


def _type_test(q: EventQuery) -> Callable[[str], bool] | None:
    if q.types:
        wanted = set(q.types)
        return wanted.__contains__
    if q.type is None:
        return None
    if "*" not in q.type:
        return q.type.__eq__
    pattern = re.compile(".*".join(re.escape(part) for part in q.type.split("*")))
    return lambda name: pattern.fullmatch(name) is not None
