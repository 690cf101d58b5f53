"""Early fraud warnings: drawn per day (`per_day`), each an issuer's report on a settled charge
made before it (the charge's `payment_intent` too).

A warning is `actionable` while its charge can still be refunded or disputed: not once the charge
is fully refunded or disputed. When a change refunds the whole charge or disputes it, its warnings
turn unactionable with `radar.early_fraud_warning.updated` (`lifecycles_early_fraud_warnings.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import SETTLED, TAGS, Plans, creation_offsets, ref, unref
from stripe_assets_emulator.rng import Draws, Purpose

FRAUD_TYPES = (
    "unauthorized_use_of_card", "made_with_stolen_card", "made_with_lost_card", "card_never_received",
    "made_with_counterfeit_card", "fraudulent_card_application", "misc",
)
_FRAUD_WEIGHTS = (40, 20, 12, 8, 8, 4, 8)


class WarningDay(NamedTuple):
    created: Sequence[int]
    charge: Sequence[int]  # ref() of the settled charge each warns about


def actionable(charge: dict[str, Any]) -> bool:
    """Whether a warning on the charge can still be acted on (refund, or wait for a dispute)."""
    return not (charge["refunded"] or charge["disputed"])


def _charge(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "charges", value)
    plans = ds.generator(EarlyFraudWarnings)
    return NOTHING if wanted is None else (lambda d, s: plans.day(d).charge[s] == wanted)


def _payment_intent(ds: Dataset, value: str) -> Predicate:
    wanted = ds.locate("payment_intents", value)  # an intent sits at its charge's position
    return _charge(ds, ds.object_id("charges", *wanted)) if wanted is not None else NOTHING


class EarlyFraudWarnings(Generator):
    resource = "early_fraud_warnings"
    filters = MappingProxyType({"charge": _charge, "payment_intent": _payment_intent})
    # `fraud_type` is a plain string in Stripe's schema: no enum to drift, so no unknown_enum.
    breakages = MappingProxyType({
        "wrong_type": Breakage("actionable", lambda v: str(v).lower()),
        "missing_required": Breakage("fraud_type", None),
        "null_required": Breakage("charge", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.day = functools.lru_cache(maxsize=512)(self._draw_day)

    def _draw_day(self, day: int) -> WarningDay:
        gen = np.random.default_rng([self.plans.seed, TAGS["early_fraud_warnings"], day, Purpose.DAY])
        created = self.plans.day_start(day) + creation_offsets(gen, self.count(day))
        charges = []
        for target in self.plans.pick_earlier(gen, day, created, "charges").tolist():
            charge_day, charge_slot = unref(target)
            if self.plans.charges(charge_day).state[charge_slot] != SETTLED:
                target = ref(charge_day, 0)  # slot 0 of every day is a settled charge
            charges.append(target)
        return WarningDay(created.astype(np.int64).tolist(), charges)

    def count(self, day: int) -> int:
        # Warnings are about charges: an account without charges has none.
        return super().count(day) if self.plans.config.count_per_day("charges") else 0

    def created(self, day: int) -> Sequence[int]:
        return self.day(day).created

    @functools.cached_property
    def by_charge(self) -> dict[int, list[tuple[int, int]]]:
        """The warnings on each charge (a ref()), by position."""
        found: dict[int, list[tuple[int, int]]] = {}
        for day in range(self.plans.config.days):
            for slot, charge in enumerate(self.day(day).charge):
                found.setdefault(charge, []).append((day, slot))
        return found

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.day(day)
        charge = self.builder.charge(*unref(plan.charge[slot]))
        r = Draws(self.plans.seed, TAGS["early_fraud_warnings"], day, slot, Purpose.OBJECT)
        return {
            "id": self.builder.object_id("early_fraud_warnings", day, slot),
            "object": "radar.early_fraud_warning",
            "actionable": actionable(charge),
            "charge": charge["id"],
            "created": plan.created[slot],
            "fraud_type": r.weighted(FRAUD_TYPES, _FRAUD_WEIGHTS),
            "livemode": False,
            "payment_intent": charge["payment_intent"],
        }


GENERATOR = EarlyFraudWarnings
