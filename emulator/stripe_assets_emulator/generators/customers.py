"""Customers: drawn per day in the day plans (`plans.py`), built by `ObjectBuilder.customer`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage


def _email(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "customers", "email", value)


class Customers(Generator):
    resource = "customers"
    filters = MappingProxyType({"email": _email})
    breakages = MappingProxyType({
        "wrong_type": Breakage("balance", lambda v: str(v)),
        "unknown_enum": Breakage("tax_exempt", lambda v: "partial"),
        "missing_required": Breakage("livemode", None),
        "null_required": Breakage("livemode", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.customers(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        return self.builder.customer(day, slot)

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        return lambda d, s: ds.is_deleted("customers", d, s)  # Stripe never lists deleted customers


GENERATOR = Customers
