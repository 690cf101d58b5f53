"""Balance transactions: derived in the day plans (`plans.py`) from settled charges, refunds and
payouts, built by `ObjectBuilder.balance_transaction` (a payout's by `payouts.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import resource_fields
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.generators.application_fees import ApplicationFees, fee_balance_transaction
from stripe_assets_emulator.generators.disputes import Disputes
from stripe_assets_emulator.generators.payouts import Payouts, payout_balance_transaction
from stripe_assets_emulator.generators.transfers import Transfers, transfer_balance_transaction
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import (
    CURRENCIES,
    FROM_APPLICATION_FEE,
    FROM_CHARGE,
    FROM_DISPUTE,
    FROM_PAYOUT,
    FROM_REFUND,
    FROM_TRANSFER,
    Plans,
    funds_delay_days,
)
from stripe_assets_emulator.query import parse_choice


def _payout(ds: Dataset, value: str) -> Predicate:
    """What an automatic payout paid out: the settled charges whose funds became available at its
    midnight, in its currency, and the payout's own transaction (Stripe answers `payout=` for
    automatic payouts only: every payout here is one)."""
    found = ds.locate("payouts", value)
    if found is None:
        return NOTHING
    day, slot = found
    currency = ds.plans.payouts(day).currency[slot]
    charge_day = day - funds_delay_days(CURRENCIES[currency].code)
    own = ds.plans.balance_transactions(day).payout_txn[slot]
    charges = ds.plans.charges(charge_day) if charge_day >= 0 else None

    def paid_out(d: int, s: int) -> bool:
        if d == day and s == own:
            return True
        if d != charge_day or charges is None:
            return False
        plan = ds.plans.balance_transactions(d)
        return plan.source_kind[s] == FROM_CHARGE and charges.currency[plan.source_slot[s]] == currency

    return paid_out


def _type(ds: Dataset, value: str) -> Predicate:
    parse_choice("type", value, resource_fields(get_resource("balance_transactions"))["type"].enum or ())
    kind = {
        "charge": FROM_CHARGE, "refund": FROM_REFUND, "payout": FROM_PAYOUT, "adjustment": FROM_DISPUTE,
        "transfer": FROM_TRANSFER, "application_fee": FROM_APPLICATION_FEE,
    }.get(value)
    return NOTHING if kind is None else (lambda d, s: ds.plans.balance_transactions(d).source_kind[s] == kind)


def _source(ds: Dataset, value: str) -> Predicate:
    sources = (
        ("charges", FROM_CHARGE), ("refunds", FROM_REFUND), ("payouts", FROM_PAYOUT), ("disputes", FROM_DISPUTE),
        ("transfers", FROM_TRANSFER), ("application_fees", FROM_APPLICATION_FEE),
    )
    for resource, kind in sources:
        found = ds.locate(resource, value)
        if found is not None:
            return _is_source(ds, kind, *found)
    return NOTHING


def _is_source(ds: Dataset, kind: int, day: int, slot: int) -> Predicate:
    """Balance transactions are created on their source's day."""

    def is_source(d: int, s: int) -> bool:
        plan = ds.plans.balance_transactions(d)
        return d == day and plan.source_kind[s] == kind and plan.source_slot[s] == slot

    return is_source


def _currency(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "balance_transactions", "currency", value)


class BalanceTransactions(Generator):
    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.payouts = Payouts(plans, builder)
        self.disputes = Disputes(plans, builder)
        self.transfers = Transfers(plans, builder)
        self.application_fees = ApplicationFees(plans, builder)

    resource = "balance_transactions"
    follows = (
        "charges, refunds, payouts, disputes, transfers and application fees "
        "(one per settled charge, refund, payout, dispute, transfer and application fee)"
    )
    filters = MappingProxyType({"type": _type, "source": _source, "currency": _currency, "payout": _payout})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("type", lambda v: "bank_adjustment"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("net", lambda v: None),
    })

    def count(self, day: int) -> int:
        return len(self.plans.balance_transactions(day).created)

    def created(self, day: int) -> Sequence[int]:
        return self.plans.balance_transactions(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.balance_transactions(day)
        if plan.source_kind[slot] == FROM_PAYOUT:
            payout = self.payouts.build(day, plan.source_slot[slot])
            return payout_balance_transaction(self.builder.object_id(self.resource, day, slot), payout)
        if plan.source_kind[slot] == FROM_DISPUTE:
            return self.disputes.balance_transaction(day, slot, plan.source_slot[slot])
        if plan.source_kind[slot] == FROM_TRANSFER:
            transfer = self.transfers.build(day, plan.source_slot[slot])
            return transfer_balance_transaction(self.builder.object_id(self.resource, day, slot), transfer)
        if plan.source_kind[slot] == FROM_APPLICATION_FEE:
            fee = self.application_fees.build(day, plan.source_slot[slot])
            return fee_balance_transaction(self.builder.object_id(self.resource, day, slot), fee)
        return self.builder.balance_transaction(day, slot)


GENERATOR = BalanceTransactions
