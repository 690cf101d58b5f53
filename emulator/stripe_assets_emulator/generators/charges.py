"""Charges: drawn per day in the day plans (`plans.py`), built by `ObjectBuilder.charge`."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage


def _customer(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "customers", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.charges(d).customer[s] == wanted)


def _payment_intent(ds: Dataset, value: str) -> Predicate:
    # each charge has its own
    return lambda d, s: ds.builder.payment_intent_id(d, s) == value


class Charges(Generator):
    resource = "charges"
    filters = MappingProxyType({"customer": _customer, "payment_intent": _payment_intent})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("status", lambda v: "on_hold"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("amount", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.charges(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        return self.builder.charge(day, slot)


GENERATOR = Charges
