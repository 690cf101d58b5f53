"""Application fees: what the platform takes from charges, derived in the day plans (`plans.py`).

About one settled charge in ten carries an application fee (a tenth of the charge, in its
currency), created in the charge's second, from one of the connected accounts transfers go to,
for the platform's one Connect application. The charge names the fee (`application_fee`,
`application_fee_amount`); the fee's amount reaches the balance in a balance transaction of type
`application_fee` (`source` the fee). Fees are refunded as the clock moves on
(`lifecycles_application_fees.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator.connect import ACCOUNTS, application_id, connected_account, fee_amount
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import TAGS
from stripe_assets_emulator.rng import Purpose, mix
from stripe_assets_emulator.vocab import CURRENCIES


def account_of(seed: int, day: int, slot: int) -> str:
    """The connected account a fee comes from."""
    return connected_account(seed, mix(seed, TAGS["application_fees"], day, slot, Purpose.OBJECT) % ACCOUNTS)


def fee_balance_transaction(txn_id: str, fee: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction that brings a fee into the platform's balance."""
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": fee["amount"],
        "available_on": fee["created"],
        "balance_type": "payments",
        "created": fee["created"],
        "currency": fee["currency"],
        "description": None,
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": fee["amount"],
        "reporting_category": "platform_earning",
        "source": fee["id"],
        "status": "available",
        "type": "application_fee",
    }


def _charge(ds: Dataset, value: str) -> Predicate:
    found = ds.locate("charges", value)
    if found is None:
        return NOTHING
    day, slot = found
    return lambda d, s: d == day and ds.plans.application_fees(d).charge[s] == slot


class ApplicationFees(Generator):
    resource = "application_fees"
    follows = "charges (about one settled charge in ten)"
    filters = MappingProxyType({"charge": _charge})
    # Stripe's schema gives application fees no enum field: none can be sent an unknown value.
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("refunded", lambda v: None),
    })

    def count(self, day: int) -> int:
        return len(self.created(day))

    def created(self, day: int) -> Sequence[int]:
        return self.plans.application_fees(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.application_fees(day)
        charge_slot = plan.charge[slot]
        charge_id = self.builder.object_id("charges", day, charge_slot)
        fee_id = self.builder.object_id("application_fees", day, slot)
        txn = self.plans.balance_transactions(day).application_fee_txn[slot]
        charges = self.plans.charges(day)
        return {
            "id": fee_id,
            "object": "application_fee",
            "account": account_of(self.plans.seed, day, slot),
            "amount": fee_amount(charges.amount[charge_slot]),
            "amount_refunded": 0,
            "application": application_id(self.plans.seed),
            "balance_transaction": self.builder.object_id("balance_transactions", day, txn),
            "charge": charge_id,
            "created": plan.created[slot],
            "currency": CURRENCIES[charges.currency[charge_slot]].code,
            "fee_source": {"charge": charge_id, "type": "charge"},
            "livemode": False,
            "originating_transaction": None,
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/application_fees/{fee_id}/refunds",
            },
        }


GENERATOR = ApplicationFees
