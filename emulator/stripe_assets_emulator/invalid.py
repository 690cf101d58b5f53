"""Breaking chosen objects against Stripe's schema, the ways real integrations see it happen.

Which objects break, and how, depends only on (seed, resource, day, slot), so the emulator can
say exactly which records a validator should quarantine and why. `id`, `object` and `created`
are never touched: listing and cursors rely on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from stripe_assets_emulator.config import FaultConfig, InvalidKind
from stripe_assets_emulator.generators import generator_class
from stripe_assets_emulator.plans import TAGS
from stripe_assets_emulator.rng import Purpose, mix


class InvalidRecord(NamedTuple):
    kind: InvalidKind
    field: str
    reason: str


class Breakage(NamedTuple):
    """How one field of an object is broken (each resource's generator lists its breakages)."""

    field: str
    value: Callable[[Any], Any] | None  # new value from the old one; None drops the field


def _reason(kind: InvalidKind, field: str, old: Any, new: Any) -> str:
    if kind == "wrong_type":
        return f"{field} sent as the string {new!r} instead of {type(old).__name__} {old!r}"
    if kind == "unknown_enum":
        return f"{field} is {new!r}, a value Stripe's schema does not define"
    if kind == "missing_required":
        return f"required field {field} left out"
    return f"{field} is null, but Stripe never sends it null"


class InvalidInjector:
    """Decides which objects are invalid and breaks them."""

    def __init__(self, seed: int, faults: FaultConfig):
        self.seed = seed
        self.fraction = faults.invalid_fraction
        self.kinds = faults.invalid_kinds
        self._resource_kinds: dict[str, tuple[InvalidKind, ...]] = {}

    @property
    def enabled(self) -> bool:
        return self.fraction > 0

    def kind_of(self, resource: str, day: int, slot: int) -> InvalidKind | None:
        """How the object at a position is broken, or None if it is served valid."""
        if self.fraction <= 0:
            return None
        draw = mix(self.seed, TAGS[resource], day, slot, Purpose.INVALID)
        if draw / 2.0**64 >= self.fraction:
            return None
        # Only the ways the resource can break: a schema without an open enum cannot drift.
        kinds = self._kinds(resource)
        return kinds[(draw >> 7) % len(kinds)] if kinds else None

    def _kinds(self, resource: str) -> tuple[InvalidKind, ...]:
        kinds = self._resource_kinds.get(resource)
        if kinds is None:
            breakages = generator_class(resource).breakages
            kinds = self._resource_kinds[resource] = tuple(k for k in self.kinds if k in breakages)
        return kinds

    def apply(self, resource: str, kind: InvalidKind, obj: dict[str, Any]) -> InvalidRecord:
        """Breaks `obj` in place and says what was done."""
        breakage = generator_class(resource).breakages[kind]
        old = obj.get(breakage.field)
        if breakage.value is None:
            obj.pop(breakage.field, None)
            new = None
        else:
            new = breakage.value(old)
            obj[breakage.field] = new
        return InvalidRecord(kind, breakage.field, _reason(kind, breakage.field, old, new))
