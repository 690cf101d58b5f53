"""Refunds: drawn per day in the day plans (`plans.py`), built by `ObjectBuilder.refund`."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import unref


def _charge(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "charges", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.refunds(d).charge[s] == wanted)


def _payment_intent(ds: Dataset, value: str) -> Predicate:
    return lambda d, s: ds.builder.payment_intent_id(*unref(ds.plans.refunds(d).charge[s])) == value


class Refunds(Generator):
    resource = "refunds"
    needs = ("charges",)  # refunds need charges to refund
    filters = MappingProxyType({"charge": _charge, "payment_intent": _payment_intent})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("reason", lambda v: "chargeback"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("amount", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.refunds(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        return self.builder.refund(day, slot)


GENERATOR = Refunds
