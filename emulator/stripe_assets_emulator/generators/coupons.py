"""Coupons: drawn per day (`per_day`), each with its own draws; some are deleted as the clock
moves on (no longer listed, retrieved as a deleted stub)."""

from __future__ import annotations

import functools
from array import array
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import DAY_SECONDS, TAGS, Plans, creation_offsets
from stripe_assets_emulator.rng import Draws, Purpose
from stripe_assets_emulator.vocab import CURRENCIES, minor_units

PERCENTS = (10, 15, 20, 25, 50, 100)
NAMES = ("Welcome", "Spring sale", "Black Friday", "Partner", "Loyalty", "Annual plan")


class Coupons(Generator):
    resource = "coupons"
    breakages = MappingProxyType({
        "wrong_type": Breakage("times_redeemed", lambda v: str(v)),
        "unknown_enum": Breakage("duration", lambda v: "lifetime"),
        "missing_required": Breakage("valid", None),
        "null_required": Breakage("duration", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self._created = functools.lru_cache(maxsize=512)(self._draw_created)

    def _draw_created(self, day: int) -> array:
        gen = np.random.default_rng([self.plans.seed, TAGS["coupons"], day, Purpose.DAY])
        offsets = creation_offsets(gen, self.count(day))
        return array("q", (self.plans.day_start(day) + offsets).astype(np.int64).tobytes())

    def created(self, day: int) -> Sequence[int]:
        return self._created(day)

    def build(self, day: int, slot: int) -> dict[str, Any]:
        r = Draws(self.plans.seed, TAGS["coupons"], day, slot, Purpose.OBJECT)
        created = self.created(day)[slot]
        duration = r.weighted(("once", "repeating", "forever"), (50, 35, 15))
        percent = r.random() < 0.75
        currency = CURRENCIES[0] if r.random() < 0.7 else r.choice(CURRENCIES)
        amount_off = None if percent else minor_units(r.choice((5, 10, 20, 50)), currency)
        percent_off = float(r.choice(PERCENTS)) if percent else None
        redeem_by = created + r.choice((7, 30, 90)) * DAY_SECONDS if r.random() < 0.4 else None
        max_redemptions = r.choice((10, 100, 1000)) if r.random() < 0.3 else None
        times_redeemed = r.randrange(max_redemptions + 1) if max_redemptions else r.randrange(40)
        name = r.choice(NAMES)
        valid = (redeem_by is None or redeem_by > self.plans.end) and (
            max_redemptions is None or times_redeemed < max_redemptions
        )
        return {
            "id": self.builder.object_id("coupons", day, slot),
            "object": "coupon",
            "amount_off": amount_off,
            "created": created,
            "currency": None if percent else currency.code,
            "duration": duration,
            "duration_in_months": r.choice((3, 6, 12)) if duration == "repeating" else None,
            "livemode": False,
            "max_redemptions": max_redemptions,
            "metadata": {},
            "name": f"{name} {int(percent_off)}% off" if percent_off else f"{name} {amount_off} off",
            "percent_off": percent_off,
            "redeem_by": redeem_by,
            "times_redeemed": times_redeemed,
            "valid": valid,
        }

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        return lambda d, s: ds.is_deleted("coupons", d, s)  # deleted coupons are not listed


GENERATOR = Coupons
