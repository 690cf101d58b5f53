"""Invoice items: drawn per day (`per_day`), each a one-off charge of an earlier price (its
product, currency and unit amount) for an earlier customer, waiting for the customer's next
invoice (pending: `invoice` null).

Stripe names the creation time `date` (there is no `created`); lists take `created` on it like
any other, and `pending`, `invoice` and `customer`. As the clock moves on, pending items are
deleted (`invoiceitem.deleted`); see `lifecycles_invoice_items.py` for what Stripe changes silently.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import TAGS, Plans, creation_offsets, unref
from stripe_assets_emulator.query import parse_boolean
from stripe_assets_emulator.rng import Draws, Purpose
from stripe_assets_emulator.vocab import CURRENCIES

DESCRIPTIONS = ("Setup fee", "Extra seats", "Onboarding", "Overage", "Support hours", "Hardware")


class ItemDay(NamedTuple):
    created: Sequence[int]
    customer: Sequence[int]  # ref()s of earlier customers
    price: Sequence[int]  # ref()s of earlier prices


def _generator(ds: Dataset) -> InvoiceItems:
    generator = ds.generators["invoice_items"]
    assert isinstance(generator, InvoiceItems)
    return generator


def _pending(ds: Dataset, value: str) -> Predicate:
    wanted = parse_boolean("pending", value)
    return lambda d, s: (ds.current("invoice_items", d, s).get("invoice") is None) is wanted


def _field(name: str):
    def matches(ds: Dataset, value: str) -> Predicate:
        return lambda d, s: ds.current("invoice_items", d, s).get(name) == value

    return matches


class InvoiceItems(Generator):
    resource = "invoice_items"
    filters = MappingProxyType({"pending": _pending, "invoice": _field("invoice"), "customer": _field("customer")})
    current_state_filters = frozenset({"pending", "invoice", "customer"})
    # No open enum among an invoice item's own fields (only `pricing.type`): no unknown_enum.
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("proration", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.day = functools.lru_cache(maxsize=512)(self._draw_day)

    def _draw_day(self, day: int) -> ItemDay:
        gen = np.random.default_rng([self.plans.seed, TAGS["invoice_items"], day, Purpose.DAY])
        created = self.plans.day_start(day) + creation_offsets(gen, self.count(day))
        customer = self.plans.pick_earlier(gen, day, created, "customers")
        price = self.plans.pick_earlier(gen, day, created, "prices")
        return ItemDay(
            created.astype(np.int64).tolist(), customer.astype(np.int64).tolist(), price.astype(np.int64).tolist()
        )

    def count(self, day: int) -> int:
        """None in an account without customers or prices: Stripe bills an item to a customer."""
        config = self.plans.config
        if config.count_per_day("customers") == 0 or config.count_per_day("prices") == 0:
            return 0
        return super().count(day)

    def created(self, day: int) -> Sequence[int]:
        return self.day(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        r = Draws(self.plans.seed, TAGS["invoice_items"], day, slot, Purpose.OBJECT)
        plan = self.day(day)
        price_day, price_slot = unref(plan.price[slot])
        prices = self.plans.prices(price_day)
        unit_amount = int(prices.unit_amount[price_slot])
        quantity = r.choice((1, 1, 1, 2, 3, 5, 10))
        date = plan.created[slot]
        return {
            "id": self.builder.object_id("invoice_items", day, slot),
            "object": "invoiceitem",
            "amount": unit_amount * quantity,
            "currency": CURRENCIES[prices.currency[price_slot]].code,
            "customer": self.builder.object_id("customers", *unref(plan.customer[slot])),
            "customer_account": None,
            "date": date,
            "description": r.choice(DESCRIPTIONS),
            "discountable": r.random() < 0.8,
            "discounts": [],
            "invoice": None,
            "livemode": False,
            "metadata": {},
            "net_amount": unit_amount * quantity,
            "parent": None,
            "period": {"end": date, "start": date},
            "pricing": {
                "price_details": {
                    "price": self.builder.object_id("prices", price_day, price_slot),
                    "product": self.builder.product_id(prices.product[price_slot]),
                },
                "type": "price_details",
                "unit_amount_decimal": str(unit_amount),
            },
            "proration": False,
            "quantity": quantity,
            "quantity_decimal": str(quantity),
            "tax_rates": [],
            "test_clock": None,
        }

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        return lambda d, s: ds.is_deleted("invoice_items", d, s)  # deleted items are not listed


GENERATOR = InvoiceItems
