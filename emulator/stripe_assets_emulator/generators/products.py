"""Products: drawn per day in the day plans (`plans.py`); prices point at products made before them.

Stripe deletes only products that no price points at, and then stops listing them (retrieving
one returns a deleted stub), like customers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import TAGS, Plans, _view, unref
from stripe_assets_emulator.query import parse_boolean
from stripe_assets_emulator.rng import Draws, Purpose

DESCRIPTIONS = {
    "Starter": "Everything a small team needs to get going.",
    "Pro": "Advanced features for growing teams.",
    "Enterprise": "Single sign-on, audit logs and a dedicated manager.",
    "Seats": "One additional user seat.",
    "Storage add-on": "100 GB of extra storage.",
}
UNIT_LABELS = {"Seats": "seat", "API credits": "credit", "Storage add-on": "block"}


def _active(ds: Dataset, value: str) -> Predicate:
    active = parse_boolean("active", value)
    return lambda d, s: bool(ds.current("products", d, s).get("active")) == active


def _shippable(ds: Dataset, value: str) -> Predicate:
    shippable = parse_boolean("shippable", value)
    return lambda d, s: ds.current("products", d, s).get("shippable") is shippable


class Products(Generator):
    resource = "products"
    filters = MappingProxyType({"active": _active, "shippable": _shippable})
    breakages = MappingProxyType({
        "wrong_type": Breakage("active", lambda v: str(v).lower()),
        "unknown_enum": Breakage("type", lambda v: "subscription"),
        "missing_required": Breakage("name", None),
        "null_required": Breakage("livemode", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.priced = functools.cache(self._priced)

    def created(self, day: int) -> Sequence[int]:
        return self.plans.products(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.products(day)
        r = Draws(self.plans.seed, TAGS["products"], day, slot, Purpose.OBJECT)
        created = plan.created[slot]
        active = bool(plan.active[slot])
        name = self.builder.product_name(day, slot)
        # An archived product was last updated when it was archived, within the window.
        updated = created if active else created + int(r.random() * max(self.plans.end - created, 1))
        return {
            "id": self.builder.object_id("products", day, slot),
            "object": "product",
            "active": active,
            "created": created,
            "default_price": None,
            "description": DESCRIPTIONS.get(name) if r.random() < 0.7 else None,
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": {"plan_family": name.lower()} if r.random() < 0.2 else {},
            "name": name,
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": UNIT_LABELS.get(name),
            "updated": updated,
            "url": None,
        }

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        return lambda d, s: ds.is_deleted("products", d, s)  # Stripe never lists deleted products

    def _priced(self) -> frozenset[tuple[int, int]]:
        """Positions of the products some generated price points at (they cannot be deleted)."""
        days = range(self.plans.days)
        if not days or self.plans.config.count_per_day("prices") == 0:
            return frozenset()
        refs = np.unique(np.concatenate([_view(self.plans.prices(d).product) for d in days]))
        return frozenset(unref(int(v)) for v in refs.tolist())


GENERATOR = Products
