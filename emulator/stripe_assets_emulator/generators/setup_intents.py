"""Setup intents: drawn per day (`per_day`), each saving an earlier customer's card for later
(a card of its own in an account without customers).

Most succeed at once (the customer's card becomes the intent's `payment_method`, with the
attempt that saved it); some wait for the customer (`requires_payment_method`, or
`requires_action` for authentication) until they succeed or are canceled as the clock moves on;
some were canceled already.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from stripe_assets_emulator import ids
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import TAGS, Plans, creation_offsets, unref
from stripe_assets_emulator.rng import Draws, Purpose

STATUSES = ("succeeded", "requires_payment_method", "requires_action", "canceled")
WEIGHTS = (70, 12, 8, 10)
OPEN = frozenset({"requires_payment_method", "requires_action"})  # waiting for the customer
_SECRET, _ATTEMPT, _CARD = 1, 2, 3  # discriminators of related ids
# A card asking for authentication (3D Secure) before it can be saved.
AUTHENTICATION = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}


class SetupDay(NamedTuple):
    created: Sequence[int]
    customer: Sequence[int]  # ref()s of customers created before each intent (-1: none)


def _customer(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "customers", value)
    generator = ds.generator(SetupIntents)
    return NOTHING if wanted is None else (lambda d, s: generator.day(d).customer[s] == wanted)


class SetupIntents(Generator):
    resource = "setup_intents"
    filters = MappingProxyType({"customer": _customer})
    breakages = MappingProxyType({
        "wrong_type": Breakage("payment_method_types", lambda v: ",".join(v)),
        "unknown_enum": Breakage("status", lambda v: "on_hold"),
        "missing_required": Breakage("usage", None),
        "null_required": Breakage("status", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.day = functools.lru_cache(maxsize=512)(self._draw_day)

    def _draw_day(self, day: int) -> SetupDay:
        gen = np.random.default_rng([self.plans.seed, TAGS["setup_intents"], day, Purpose.DAY])
        created = self.plans.day_start(day) + creation_offsets(gen, self.count(day))
        customer = self.plans.pick_earlier(gen, day, created, "customers")
        if self.plans.config.count_per_day("customers") == 0:  # an account without customers
            customer[:] = -1
        return SetupDay(created.astype(np.int64).tolist(), customer.astype(np.int64).tolist())

    def created(self, day: int) -> Sequence[int]:
        return self.day(day).created

    def status(self, day: int, slot: int) -> str:
        """Its status as generated (the first draw of its object)."""
        return Draws(self.plans.seed, TAGS["setup_intents"], day, slot, Purpose.OBJECT).weighted(STATUSES, WEIGHTS)

    def open_slots(self, day: int) -> list[int]:
        """The day's intents generated waiting for the customer."""
        return [slot for slot in range(self.count(day)) if self.status(day, slot) in OPEN]

    def card(self, day: int, slot: int) -> str:
        """The payment method it saves: its customer's card (a card of its own without one)."""
        customer = self.day(day).customer[slot]
        if customer < 0:
            return ids.related_id("pm_", 24, self.plans.seed, TAGS["setup_intents"], day, slot, _CARD)
        cus_day, cus_slot = unref(customer)
        currency = self.plans.customers(cus_day).currency[cus_slot]
        return self.builder.identity("customers", cus_day, cus_slot, currency).payment_method

    def build(self, day: int, slot: int) -> dict[str, Any]:
        r = Draws(self.plans.seed, TAGS["setup_intents"], day, slot, Purpose.OBJECT)
        status = r.weighted(STATUSES, WEIGHTS)
        usage = r.weighted(("off_session", "on_session"), (85, 15))
        seti = self.builder.object_id("setup_intents", day, slot)
        customer = self.day(day).customer[slot]
        key = (self.plans.seed, TAGS["setup_intents"], day, slot)
        secret = ids.random_chars(25, *key, Purpose.RELATED_ID, _SECRET)
        obj = {
            "id": seti,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{seti}_secret_{secret}",
            "created": self.day(day).created[slot],
            "customer": self.builder.object_id("customers", *unref(customer)) if customer >= 0 else None,
            "description": None,
            "flow_directions": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": {},
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
            },
            "payment_method_types": ["card"],
            "single_use_mandate": None,
            "status": status,
            "usage": usage,
        }
        if status in ("succeeded", "requires_action"):
            obj["payment_method"] = self.card(day, slot)
            obj["latest_attempt"] = ids.related_id("setatt_", 24, *key, _ATTEMPT)
        if status == "requires_action":
            obj["next_action"] = AUTHENTICATION
        if status == "canceled":
            obj["cancellation_reason"] = r.choice(("abandoned", "requested_by_customer", "duplicate"))
        return obj


GENERATOR = SetupIntents
