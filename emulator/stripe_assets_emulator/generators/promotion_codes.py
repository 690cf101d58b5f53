"""Promotion codes: drawn per day (`per_day`), each redeeming a coupon made before it.

A code is active only while its coupon is valid (Stripe's rule) and until the account deactivates
it. As the clock moves on, codes are tagged or deactivated (`promotion_code.updated`), and the codes
of a deleted coupon stop being active in the same second.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.generators.coupons import Coupons
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import DAY_SECONDS, TAGS, Plans, creation_offsets, unref
from stripe_assets_emulator.query import parse_boolean
from stripe_assets_emulator.rng import Draws, Purpose

WORDS = ("WELCOME", "SPRING", "SUMMER", "FALL", "WINTER", "FRIENDS", "VIP", "LAUNCH", "BLACKFRIDAY", "THANKS")
ACTIVE_SHARE = 0.85  # codes the account has not deactivated


def _active(ds: Dataset, value: str) -> Predicate:
    active = parse_boolean("active", value)
    return lambda d, s: ds.current("promotion_codes", d, s).get("active") is active


def _field(name: str):
    def matches(ds: Dataset, value: str) -> Predicate:
        return lambda d, s: ds.current("promotion_codes", d, s).get(name) == value

    return matches


def _coupon(ds: Dataset, value: str) -> Predicate:
    return lambda d, s: ds.current("promotion_codes", d, s)["promotion"]["coupon"] == value


class PromotionCodes(Generator):
    resource = "promotion_codes"
    filters = MappingProxyType({
        "active": _active, "code": _field("code"), "coupon": _coupon, "customer": _field("customer"),
    })
    current_state_filters = frozenset({"active", "code", "coupon", "customer"})
    # No open enum in Stripe's schema (promotion.type is only `coupon`): no unknown_enum.
    breakages = MappingProxyType({
        "wrong_type": Breakage("times_redeemed", lambda v: str(v)),
        "missing_required": Breakage("code", None),
        "null_required": Breakage("active", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.day = functools.lru_cache(maxsize=512)(self._draw_day)
        self.coupons = Coupons(plans, builder)  # drawn alike: the same coupons as served

    def count(self, day: int) -> int:
        # Codes redeem coupons: an account without coupons has none.
        return super().count(day) if self.plans.config.count_per_day("coupons") else 0

    def _draw_day(self, day: int) -> tuple[array, list[int]]:
        gen = np.random.default_rng([self.plans.seed, TAGS["promotion_codes"], day, Purpose.DAY])
        created = self.plans.day_start(day) + creation_offsets(gen, self.count(day))
        n = len(created)
        target_day = gen.integers(0, day + 1, n)
        available = np.full(n, self.plans.config.count_per_day("coupons"), dtype=np.int64)
        same_day = target_day == day
        own = np.asarray(self.coupons.created(day), dtype=np.int64)
        available[same_day] = np.searchsorted(own, created[same_day], side="right")
        slot = (gen.random(n) * available).astype(np.int64)
        return array("q", created.astype(np.int64).tobytes()), ((target_day << 32) | slot).tolist()

    def created(self, day: int) -> Sequence[int]:
        return self.day(day)[0]

    def coupon_of(self, day: int, slot: int) -> tuple[int, int]:
        return unref(self.day(day)[1][slot])

    @functools.cached_property
    def by_coupon(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """The codes of each coupon (by position), by position."""
        found: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for day in range(self.plans.config.days):
            for slot in range(self.count(day)):
                found.setdefault(self.coupon_of(day, slot), []).append((day, slot))
        return found

    def active_slots(self, day: int) -> list[int]:
        """The day's codes generated active."""
        return [slot for slot in range(self.count(day)) if self.build(day, slot)["active"]]

    def build(self, day: int, slot: int) -> dict[str, Any]:
        r = Draws(self.plans.seed, TAGS["promotion_codes"], day, slot, Purpose.OBJECT)
        created = self.created(day)[slot]
        coupon = self.coupons.build(*self.coupon_of(day, slot))
        enabled = r.random() < ACTIVE_SHARE
        word = r.choice(WORDS)
        expires_at = created + r.choice((7, 30, 90)) * DAY_SECONDS if r.random() < 0.3 else None
        max_redemptions = r.choice((1, 50, 500)) if r.random() < 0.3 else None
        times_redeemed = r.randrange(max_redemptions + 1) if max_redemptions else r.randrange(25)
        minimum = r.random() < 0.15
        return {
            "id": self.builder.object_id("promotion_codes", day, slot),
            "object": "promotion_code",
            "active": enabled and coupon["valid"],
            "code": f"{word}{r.randrange(100):02d}-{self.builder.object_id('promotion_codes', day, slot)[6:12]}",
            "created": created,
            "customer": None,
            "customer_account": None,
            "expires_at": expires_at,
            "livemode": False,
            "max_redemptions": max_redemptions,
            "metadata": {},
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "restrictions": {
                "currency_options": {},
                "first_time_transaction": r.random() < 0.25,
                "minimum_amount": 5000 if minimum else None,
                "minimum_amount_currency": "usd" if minimum else None,
            },
            "times_redeemed": times_redeemed,
        }


GENERATOR = PromotionCodes
