"""Payouts: the account's automatic daily payouts, derived in the day plans (`plans.py`).

Each day, the funds of settled charges that became available at midnight are paid out to the
bank account of their currency, one payout per currency; each payout has its balance transaction
(type `payout`, `source` the payout, the amount taken out of the balance). A payout arrives two
days after it is made: paid by then, in transit until.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator import ids
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import DAY_SECONDS, TAGS
from stripe_assets_emulator.query import parse_choice
from stripe_assets_emulator.rng import Purpose
from stripe_assets_emulator.vocab import CURRENCIES

ARRIVAL_DAYS = 2
STATUSES = ("canceled", "failed", "in_transit", "paid", "pending")
DESCRIPTION = "STRIPE PAYOUT"
_BANK, _TRACE = 1, 2  # discriminators of related ids


def _status(ds: Dataset, value: str) -> Predicate:
    parse_choice("status", value, STATUSES)
    return field_equals(ds, "payouts", "status", value)


def _destination(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "payouts", "destination", value)


def payout_balance_transaction(txn_id: str, payout: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction that takes a payout's amount out of the balance."""
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": -payout["amount"],
        "available_on": payout["created"],
        "balance_type": "payments",
        "created": payout["created"],
        "currency": payout["currency"],
        "description": DESCRIPTION,
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": -payout["amount"],
        "reporting_category": "payout",
        "source": payout["id"],
        "status": "available",
        "type": "payout",
    }


class Payouts(Generator):
    resource = "payouts"
    follows = "available funds (one automatic payout a day per currency)"
    filters = MappingProxyType({"status": _status, "destination": _destination})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("reconciliation_status", lambda v: "partial"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("arrival_date", lambda v: None),
    })

    def count(self, day: int) -> int:
        return len(self.created(day))

    def created(self, day: int) -> Sequence[int]:
        return self.plans.payouts(day).created

    def bank_account(self, currency: int) -> str:
        return "ba_" + ids.related_id("", 24, self.plans.seed, TAGS["payouts"], currency, _BANK)

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.payouts(day)
        created = plan.created[slot]
        arrival = (created // DAY_SECONDS + ARRIVAL_DAYS) * DAY_SECONDS
        paid = arrival <= self.plans.end
        txn = self.plans.balance_transactions(day).payout_txn[slot]
        trace = ids.random_chars(15, self.plans.seed, TAGS["payouts"], day, slot, Purpose.RELATED_ID, _TRACE)
        return {
            "id": self.builder.object_id("payouts", day, slot),
            "object": "payout",
            "amount": plan.amount[slot],
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": arrival,
            "automatic": True,
            "balance_transaction": self.builder.object_id("balance_transactions", day, txn),
            "created": created,
            "currency": CURRENCIES[plan.currency[slot]].code,
            "description": DESCRIPTION,
            "destination": self.bank_account(plan.currency[slot]),
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "original_payout": None,
            "payout_method": None,
            "reconciliation_status": "completed" if paid else "in_progress",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": None,
            "status": "paid" if paid else "in_transit",
            "trace_id": {"status": "supported", "value": trace.upper()}
            if paid
            else {"status": "pending", "value": None},
            "type": "bank_account",
        }


GENERATOR = Payouts
