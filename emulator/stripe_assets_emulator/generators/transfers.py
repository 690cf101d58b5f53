"""Transfers: money the platform sends from its balance to its connected accounts, drawn per day
(`per_day`) in the day plans (`plans.py`).

Each goes to one of a few connected accounts (`destination`, where it lands as the payment
`destination_payment`) and has its balance transaction (type `transfer`, `source` the transfer,
the amount taken out of the balance) created in the same second. Transfers are generated whole;
reversals come as the clock moves on (`lifecycles_transfers.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator import ids
from stripe_assets_emulator.connect import ACCOUNTS, connected_account
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import TAGS
from stripe_assets_emulator.rng import Draws, Purpose
from stripe_assets_emulator.vocab import CURRENCIES

_PAYMENT = 2  # discriminator of the destination payment's id
DESCRIPTIONS = (None, None, "Seller earnings", "Marketplace payout", "Driver earnings")


def transfer_balance_transaction(txn_id: str, transfer: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction that takes a transfer's amount out of the balance."""
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": -transfer["amount"],
        "available_on": transfer["created"],
        "balance_type": "payments",
        "created": transfer["created"],
        "currency": transfer["currency"],
        "description": transfer["description"],
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": -transfer["amount"],
        "reporting_category": "transfer",
        "source": transfer["id"],
        "status": "available",
        "type": "transfer",
    }


def _destination(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "transfers", "destination", value)


class Transfers(Generator):
    resource = "transfers"
    filters = MappingProxyType({"destination": _destination})
    # Stripe's schema gives transfers no enum field: none can be sent an unknown value.
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("reversed", lambda v: None),
    })

    def created(self, day: int) -> Sequence[int]:
        return self.plans.transfers(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.transfers(day)
        r = Draws(self.plans.seed, TAGS["transfers"], day, slot, Purpose.OBJECT)
        account = r.randrange(ACCOUNTS)
        description = r.choice(DESCRIPTIONS)
        transfer_id = self.builder.object_id("transfers", day, slot)
        txn = self.plans.balance_transactions(day).transfer_txn[slot]
        return {
            "id": transfer_id,
            "object": "transfer",
            "amount": plan.amount[slot],
            "amount_reversed": 0,
            "balance_transaction": self.builder.object_id("balance_transactions", day, txn),
            "created": plan.created[slot],
            "currency": CURRENCIES[plan.currency[slot]].code,
            "description": description,
            "destination": connected_account(self.plans.seed, account),
            "destination_payment": ids.related_id(
                "py_", 24, self.plans.seed, TAGS["transfers"], day, slot, _PAYMENT
            ),
            "livemode": False,
            "metadata": {},
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": None,
            "source_type": "card",
            "transfer_group": None,
        }


GENERATOR = Transfers
