"""Subscriptions: drawn per day in the day plans (`plans.py`), built by `ObjectBuilder.subscription`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import resource_fields
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import SUBSCRIPTION_STATUSES
from stripe_assets_emulator.query import parse_choice

STATUS_FILTERS = ("all", "ended", *sorted(SUBSCRIPTION_STATUSES))
_ENDED = ("canceled", "incomplete_expired")


def _status(ds: Dataset, value: str) -> Predicate:
    parse_choice("status", value, STATUS_FILTERS)
    if value == "all":
        return lambda d, s: True
    wanted = set(_ENDED if value == "ended" else (value,))
    return lambda d, s: ds.subscription_status(d, s) in wanted


def _customer(ds: Dataset, value: str) -> Predicate:
    customer = ref_of(ds, "customers", value)
    return NOTHING if customer is None else (lambda d, s: ds.plans.subscriptions(d).customer[s] == customer)


def _price(ds: Dataset, value: str) -> Predicate:
    price = ref_of(ds, "prices", value)
    return NOTHING if price is None else (lambda d, s: ds.plans.subscriptions(d).price[s] == price)


def _collection_method(ds: Dataset, value: str) -> Predicate:
    methods = resource_fields(get_resource("subscriptions"))["collection_method"].enum
    parse_choice("collection_method", value, methods or ())
    return field_equals(ds, "subscriptions", "collection_method", value)


class Subscriptions(Generator):
    resource = "subscriptions"
    needs = ("customers", "prices")  # subscriptions need customers and recurring prices
    filters = MappingProxyType({
        "customer": _customer,
        "price": _price,
        "status": _status,
        "collection_method": _collection_method,
    })
    current_state_filters = frozenset({"status"})
    breakages = MappingProxyType({
        "wrong_type": Breakage("start_date", lambda v: str(v)),
        "unknown_enum": Breakage("status", lambda v: "on_hold"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("customer", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.subscriptions(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        return self.builder.subscription(day, slot)

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        if "status" in filters:
            return None
        return lambda d, s: ds.is_canceled("subscriptions", d, s)  # listed only with a status filter


GENERATOR = Subscriptions
