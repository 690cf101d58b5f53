"""The emulated account: where each object sits in list order and the bytes served for it.

Objects are addressed by (day, slot). List order is Stripe's: newest first, and among objects
created in the same second, the greater id first (ids of one day sort like their slots), so
walking days and slots backwards is walking the list.

Generated objects are built from the day plans; once the clock has moved on, the live state
(`state.LiveState`) holds the current state of changed objects and the objects created after the
generated window, on the days that follow it. Reads go through `current`, `served` and `count`,
which consult the live state first.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import orjson

from stripe_assets.catalog import get_resource
from stripe_assets_emulator import ids
from stripe_assets_emulator.config import EmulatorConfig
from stripe_assets_emulator.events import EventLog
from stripe_assets_emulator.generators import GENERATED, Generator, generator_classes
from stripe_assets_emulator.invalid import InvalidInjector, InvalidRecord
from stripe_assets_emulator.objects import SETTLE_DAYS, ObjectBuilder
from stripe_assets_emulator.plans import CANCELED, DAY_SECONDS, SUBSCRIPTION_STATUSES, Plans
from stripe_assets_emulator.state import LiveState

Position = tuple[int, int]  # (day, slot)
Predicate = Callable[[int, int], bool]

OBJECT_CACHE_SIZE = 20_000  # serialized objects kept (~50 MB of charges at most)

G = TypeVar("G", bound=Generator)


class Dataset:
    def __init__(self, config: EmulatorConfig):
        self.config = config
        self.plans = Plans(config)
        self.builder = ObjectBuilder(self.plans)
        self.generators = {name: cls(self.plans, self.builder) for name, cls in generator_classes().items()}
        self.invalid = InvalidInjector(self.plans.seed, config.faults)
        self._generated_bytes: Callable[[str, int, int], bytes] = functools.lru_cache(
            maxsize=OBJECT_CACHE_SIZE
        )(self._served_bytes)
        self.live = LiveState(config.days)
        self.live.unsettled_from = max(0, config.days - SETTLE_DAYS - 1)
        self.now = config.end_timestamp  # the emulator's clock: the data is the state at this instant
        self.advances = 0  # how often the clock was moved on (each advance draws its own changes)
        self.events = EventLog(self.plans.seed)

    def generator(self, kind: type[G]) -> G:
        """The data set's generator of `kind`'s resource, typed as `kind` (for what only that
        resource's generator knows: a session's completion, the codes of a coupon, ...)."""
        generator = self.generators[kind.resource]
        if not isinstance(generator, kind):
            raise TypeError(f"the generator of {kind.resource} is {type(generator).__name__}, not {kind.__name__}")
        return generator

    @property
    def days(self) -> int:
        """Days with objects: the generated window and the days after it with later objects."""
        return self.live.last_day + 1

    def count(self, resource: str, day: int) -> int:
        if day < self.config.days:
            return self.generators[resource].count(day)
        return len(self.live.later_created(resource, day))

    def created(self, resource: str, day: int) -> Sequence[int]:
        if day < self.config.days:
            return self.generators[resource].created(day)
        return self.live.later_created(resource, day)

    # identity ------------------------------------------------------------------------------

    def object_id(self, resource: str, day: int, slot: int) -> str:
        return self.builder.object_id(resource, day, slot)

    def locate(self, resource: str, object_id: str) -> Position | None:
        """The position of one of `resource`'s objects by id, or None if there is no such object."""
        for prefix in get_resource(resource).id_prefixes:
            if object_id.startswith(prefix):
                found = ids.position(object_id[len(prefix) :])
                if found is None:
                    return None
                day, slot = found
                if day >= self.days or slot >= self.count(resource, day):
                    return None
                return found if self.object_id(resource, day, slot) == object_id else None
        return None

    def find(self, object_id: str) -> tuple[str, int, int] | None:
        """Resource and position of any served object, by id."""
        for resource in GENERATED:
            found = self.locate(resource, object_id)
            if found is not None:
                return resource, *found
        return None

    # state ---------------------------------------------------------------------------------

    def is_deleted(self, resource: str, day: int, slot: int) -> bool:
        if resource != "customers":
            return (day, slot) in self.live.deleted.get(resource, ())
        if day < self.config.days and self.plans.customers(day).deleted[slot]:
            return True
        return (day, slot) in self.live.deleted_customers

    def subscription_status(self, day: int, slot: int) -> str:
        changed = self.live.current.get(("subscriptions", day, slot))
        if changed is not None:
            return changed["status"]
        return SUBSCRIPTION_STATUSES[self.plans.subscriptions(day).status[slot]]

    def price_active(self, day: int, slot: int) -> bool:
        changed = self.live.current.get(("prices", day, slot))
        if changed is not None:
            return changed["active"]
        return bool(self.plans.prices(day).active[slot])

    def is_canceled(self, resource: str, day: int, slot: int) -> bool:
        if resource != "subscriptions":
            return False
        changed = self.live.current.get(("subscriptions", day, slot))
        if changed is not None:
            return changed["status"] == "canceled"
        return self.plans.subscriptions(day).status[slot] == CANCELED

    def current(self, resource: str, day: int, slot: int) -> dict:
        """The object's valid current state (deleted objects included); changed objects are
        shared with the live state, so callers copy before modifying."""
        changed = self.live.current.get((resource, day, slot))
        return changed if changed is not None else self.generators[resource].build(day, slot)

    def served(self, resource: str, day: int, slot: int) -> dict:
        """The object as the API returns it: deleted objects as stubs, invalid ones broken."""
        if self.is_deleted(resource, day, slot):
            return self.builder.deleted_stub(resource, day, slot)
        changed = self.live.current.get((resource, day, slot))
        obj = self.generators[resource].build(day, slot) if changed is None else dict(changed)
        kind = self.invalid.kind_of(resource, day, slot)
        if kind is not None:
            self.invalid.apply(resource, kind, obj)
        return obj

    def served_bytes(self, resource: str, day: int, slot: int) -> bytes:
        changed = self.live.served.get((resource, day, slot))
        return changed if changed is not None else self._generated_bytes(resource, day, slot)

    def _served_bytes(self, resource: str, day: int, slot: int) -> bytes:
        # orjson over-allocates its output (16 KiB for a 2 KiB charge); a cached copy is trimmed.
        return bytes(memoryview(orjson.dumps(self.served(resource, day, slot))))

    def put(self, resource: str, day: int, slot: int, obj: dict) -> None:
        """Records an object's new state (the caller holds the live state's write lock)."""
        self.live.current[(resource, day, slot)] = obj
        self.live.changed.setdefault(resource, set()).add((day, slot))
        self.live.served[(resource, day, slot)] = self._served_bytes(resource, day, slot)

    def settle(self, until: int) -> int:
        """Pending balance transactions whose `available_on` is at or before `until` become
        `available`, as Stripe's do when their funds are, with no Event (the caller holds the live
        state's write lock). Returns how many settled."""
        resource, settled, still = "balance_transactions", 0, None
        for day in range(self.live.unsettled_from, self.days):
            for slot in range(self.count(resource, day)):
                txn = self.current(resource, day, slot)
                if txn["status"] != "pending":
                    continue
                if txn["available_on"] <= until:
                    self.put(resource, day, slot, {**txn, "status": "available"})
                    settled += 1
                elif still is None:
                    still = day
        # Objects made later are created after `until`: on its day or later.
        today = (until - self.plans.start) // DAY_SECONDS
        self.live.unsettled_from = min(self.days if still is None else still, today)
        return settled

    def delete(self, resource: str, day: int, slot: int) -> None:
        """Marks an object deleted: served as Stripe's deleted stub from now on."""
        if resource == "customers":
            self.live.deleted_customers.add((day, slot))
        else:
            self.live.deleted.setdefault(resource, set()).add((day, slot))
        self.live.changed.setdefault(resource, set()).add((day, slot))
        self.live.served[(resource, day, slot)] = self._served_bytes(resource, day, slot)

    def delete_customer(self, day: int, slot: int) -> None:
        self.delete("customers", day, slot)

    def invalid_record(self, resource: str, day: int, slot: int) -> InvalidRecord | None:
        kind = self.invalid.kind_of(resource, day, slot)
        if kind is None or self.is_deleted(resource, day, slot):
            return None
        return self.invalid.apply(resource, kind, dict(self.current(resource, day, slot)))

    def invalid_records(self, resource: str) -> dict[str, InvalidRecord]:
        """id -> what was broken, for every object served invalid, in list order."""
        if not self.invalid.enabled:
            return {}
        found = {}
        for day, slot in self.positions(resource):
            record = self.invalid_record(resource, day, slot)
            if record is not None:
                found[self.object_id(resource, day, slot)] = record
        return found

    # order ---------------------------------------------------------------------------------

    def _day_range(self, created_from: int, created_until: int) -> range:
        start = self.plans.start
        first = max(0, (created_from - start) // DAY_SECONDS) if created_from > start else 0
        last = min(self.days - 1, (created_until - 1 - start) // DAY_SECONDS)
        return range(first, last + 1)

    def _slot_range(self, resource: str, day: int, created_from: int, created_until: int) -> range:
        created = self.created(resource, day)
        low = bisect_left(created, created_from) if created_from > created[0] else 0
        high = bisect_left(created, created_until) if created_until <= created[-1] else len(created)
        return range(low, high)

    def walk(
        self,
        resource: str,
        created_from: int,
        created_until: int,
        *,
        newer_than: Position | None = None,
        older_than: Position | None = None,
        newest_first: bool = True,
    ) -> Iterator[Position]:
        """Positions with created_from <= created < created_until, strictly between the bounds."""
        days = self._day_range(created_from, created_until)
        for day in reversed(days) if newest_first else days:
            if older_than is not None and day > older_than[0]:
                continue
            if newer_than is not None and day < newer_than[0]:
                continue
            if self.count(resource, day) == 0:
                continue
            slots = self._slot_range(resource, day, created_from, created_until)
            low, high = slots.start, slots.stop
            if older_than is not None and day == older_than[0]:
                high = min(high, older_than[1])
            if newer_than is not None and day == newer_than[0]:
                low = max(low, newer_than[1] + 1)
            for slot in range(high - 1, low - 1, -1) if newest_first else range(low, high):
                yield day, slot

    def positions(
        self,
        resource: str,
        created_from: int | None = None,
        created_until: int | None = None,
        keep: Predicate | None = None,
    ) -> list[Position]:
        """Every position in list order (newest first), optionally filtered."""
        walked = self.walk(
            resource,
            -(2**62) if created_from is None else created_from,
            2**62 if created_until is None else created_until,
        )
        return [p for p in walked if keep is None or keep(*p)]

    def total(self, resource: str) -> int:
        return sum(self.count(resource, day) for day in range(self.days))
