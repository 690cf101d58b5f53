"""Prices: drawn per day in the day plans (`plans.py`), built by `ObjectBuilder.price`."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.query import parse_boolean, parse_choice


def _active(ds: Dataset, value: str) -> Predicate:
    active = parse_boolean("active", value)
    return lambda d, s: ds.price_active(d, s) == active


def _type(ds: Dataset, value: str) -> Predicate:
    recurring = parse_choice("type", value, ("one_time", "recurring")) == "recurring"
    return lambda d, s: bool(ds.plans.prices(d).recurring[s]) == recurring


def _product(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "products", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.prices(d).product[s] == wanted)


def _currency(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "prices", "currency", value)


class Prices(Generator):
    resource = "prices"
    needs = ("products",)  # prices are made for products
    filters = MappingProxyType({"active": _active, "type": _type, "currency": _currency, "product": _product})
    breakages = MappingProxyType({
        "wrong_type": Breakage("unit_amount", lambda v: str(v)),
        "unknown_enum": Breakage("billing_scheme", lambda v: "package"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("product", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.prices(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        return self.builder.price(day, slot)

    def later_filter(self, ds: Dataset, name: str, value: str) -> Predicate:
        if name == "active":
            wanted = parse_boolean(name, value)
            return lambda day, slot: ds.current("prices", day, slot).get(name) == wanted
        return super().later_filter(ds, name, value)


GENERATOR = Prices
