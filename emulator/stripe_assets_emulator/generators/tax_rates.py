"""Tax rates: drawn per day (`per_day`), each one of the common rates of a country or state,
defined by hand (no Stripe Tax: `jurisdiction_level`, `rate_type` and `effective_percentage` null).

Some are inclusive (the price already holds the tax, as VAT often is) and some archived already.
As the clock moves on, rates are renamed or tagged, and archived (`tax_rate.updated`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import TAGS, Plans, creation_offsets
from stripe_assets_emulator.query import parse_boolean
from stripe_assets_emulator.rng import Draws, Purpose


class Rate(NamedTuple):
    display_name: str
    country: str
    state: str | None
    percentage: float
    tax_type: str


RATES = (
    Rate("VAT", "DE", None, 19.0, "vat"),
    Rate("VAT", "DE", None, 7.0, "vat"),
    Rate("VAT", "FR", None, 20.0, "vat"),
    Rate("VAT", "GB", None, 20.0, "vat"),
    Rate("VAT", "NL", None, 21.0, "vat"),
    Rate("GST", "AU", None, 10.0, "gst"),
    Rate("JCT", "JP", None, 10.0, "jct"),
    Rate("HST", "CA", "ON", 13.0, "hst"),
    Rate("GST", "CA", "AB", 5.0, "gst"),
    Rate("Sales Tax", "US", "CA", 7.25, "sales_tax"),
    Rate("Sales Tax", "US", "NY", 4.0, "sales_tax"),
    Rate("Sales Tax", "US", "TX", 6.25, "sales_tax"),
)
ACTIVE_SHARE = 0.85


def _flag(name: str):
    def matches(ds: Dataset, value: str) -> Predicate:
        wanted = parse_boolean(name, value)
        return lambda d, s: ds.current("tax_rates", d, s).get(name) is wanted

    return matches


class TaxRates(Generator):
    resource = "tax_rates"
    filters = MappingProxyType({"active": _flag("active"), "inclusive": _flag("inclusive")})
    current_state_filters = frozenset({"active"})
    breakages = MappingProxyType({
        "wrong_type": Breakage("percentage", lambda v: str(v)),
        "unknown_enum": Breakage("tax_type", lambda v: "carbon_tax"),
        "missing_required": Breakage("display_name", None),
        "null_required": Breakage("inclusive", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self._created = functools.lru_cache(maxsize=512)(self._draw_created)

    def _draw_created(self, day: int) -> Sequence[int]:
        gen = np.random.default_rng([self.plans.seed, TAGS["tax_rates"], day, Purpose.DAY])
        return (self.plans.day_start(day) + creation_offsets(gen, self.count(day))).astype(np.int64).tolist()

    def created(self, day: int) -> Sequence[int]:
        return self._created(day)

    def active(self, day: int, slot: int) -> bool:
        """Whether it is still in use as generated (the first draw of its object)."""
        return Draws(self.plans.seed, TAGS["tax_rates"], day, slot, Purpose.OBJECT).random() < ACTIVE_SHARE

    def active_slots(self, day: int) -> list[int]:
        """The day's rates generated in use."""
        return [slot for slot in range(self.count(day)) if self.active(day, slot)]

    def build(self, day: int, slot: int) -> dict[str, Any]:
        r = Draws(self.plans.seed, TAGS["tax_rates"], day, slot, Purpose.OBJECT)
        active = r.random() < ACTIVE_SHARE
        rate = r.choice(RATES)
        inclusive = rate.tax_type != "sales_tax" and r.random() < 0.4  # US sales tax is added on top
        where = f"{rate.country} - {rate.state}" if rate.state else rate.country
        return {
            "id": self.builder.object_id("tax_rates", day, slot),
            "object": "tax_rate",
            "active": active,
            "country": rate.country,
            "created": self.created(day)[slot],
            "description": f"{rate.display_name} {where} {rate.percentage:g}%" if r.random() < 0.6 else None,
            "display_name": rate.display_name,
            "effective_percentage": None,
            "flat_amount": None,
            "inclusive": inclusive,
            "jurisdiction": where,
            "jurisdiction_level": None,
            "livemode": False,
            "metadata": {},
            "percentage": rate.percentage,
            "rate_type": None,
            "state": rate.state,
            "tax_type": rate.tax_type,
        }


GENERATOR = TaxRates
