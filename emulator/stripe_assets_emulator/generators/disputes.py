"""Disputes: a customer's bank contesting a charge, derived in the day plans (`plans.py`).

About one in a hundred settled, unrefunded charges is disputed, one to seven days after it was
made: the charge shows `disputed`, and the disputed amount and Stripe's dispute fee leave the
balance in a balance transaction (type `adjustment`, category `dispute`, `source` the dispute)
that the dispute embeds. A dispute waits for the merchant's evidence (`needs_response`) until
the clock moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import DAY_SECONDS, TAGS, unref
from stripe_assets_emulator.rng import Draws, Purpose
from stripe_assets_emulator.vocab import CURRENCIES, minor_units

CURRENCY_BY_CODE = {c.code: c for c in CURRENCIES}
REASONS = ("fraudulent", "product_not_received", "duplicate", "subscription_canceled", "general")
RESPONSE_DAYS = 21  # evidence is due three weeks after the dispute
# Every evidence field a new dispute carries, all empty until the merchant responds.
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)  # fmt: skip


def dispute_balance_transaction(txn_id: str, dispute_id: str, charge: dict[str, Any], at: int) -> dict[str, Any]:
    """The disputed amount and the dispute fee leaving the balance."""
    currency = CURRENCY_BY_CODE[charge["currency"]]
    amount = -(charge["amount"] - charge["amount_refunded"])
    fee = minor_units(15, currency)
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": at,
        "balance_type": "payments",
        "created": at,
        "currency": currency.code,
        "description": f"Chargeback withdrawal for {charge['id']}",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {"amount": fee, "application": None, "currency": currency.code, "description": "Dispute fee",
             "type": "stripe_fee"}
        ],
        "net": amount - fee,
        "reporting_category": "dispute",
        "source": dispute_id,
        "status": "available",
        "type": "adjustment",
    }


def dispute_of(dispute_id: str, charge: dict[str, Any], txn: dict[str, Any], at: int, reason: str) -> dict[str, Any]:
    """A new dispute of `charge`, waiting for the merchant's response."""
    card = charge["payment_method_details"]["card"]
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": -txn["amount"],
        "balance_transactions": [txn],
        "charge": charge["id"],
        "created": at,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": at + RESPONSE_DAYS * DAY_SECONDS,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": "not_submitted",
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "network_reason_code": None,
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {"brand": card["brand"], "case_type": "chargeback", "network": card["network"],
                     "network_reason_code": None},
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }


def _charge(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "charges", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.disputes(d).charge[s] == wanted)


def _payment_intent(ds: Dataset, value: str) -> Predicate:
    wanted = ds.locate("payment_intents", value)  # an intent sits at its charge's position
    return _charge(ds, ds.object_id("charges", *wanted)) if wanted is not None else NOTHING


class Disputes(Generator):
    resource = "disputes"
    follows = "charges (about one in a hundred settled charges, disputed within a week)"
    filters = MappingProxyType({"charge": _charge, "payment_intent": _payment_intent})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("status", lambda v: "pending"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("evidence", lambda v: None),
    })

    def count(self, day: int) -> int:
        return len(self.created(day))

    def created(self, day: int) -> Sequence[int]:
        return self.plans.disputes(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.disputes(day)
        created = plan.created[slot]
        charge = self.builder.charge(*unref(plan.charge[slot]))
        dispute_id = self.builder.object_id("disputes", day, slot)
        txn_slot = self.plans.balance_transactions(day).dispute_txn[slot]
        txn = self.balance_transaction(day, txn_slot, slot)
        reason = Draws(self.plans.seed, TAGS["disputes"], day, slot, Purpose.OBJECT).choice(REASONS)
        dispute = dispute_of(dispute_id, charge, txn, created, reason)
        if dispute["evidence_details"]["due_by"] < self.plans.end:
            dispute["evidence_details"] = {**dispute["evidence_details"], "past_due": True}
        return dispute

    def balance_transaction(self, day: int, txn_slot: int, slot: int) -> dict[str, Any]:
        plan = self.plans.disputes(day)
        charge = self.builder.charge(*unref(plan.charge[slot]))
        txn_id = self.builder.object_id("balance_transactions", day, txn_slot)
        return dispute_balance_transaction(txn_id, self.builder.object_id("disputes", day, slot), charge,
                                           plan.created[slot])


GENERATOR = Disputes
