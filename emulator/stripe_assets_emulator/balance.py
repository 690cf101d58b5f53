"""The account's balance (`GET /v1/balance`), derived from its balance transactions.

Stripe's balance is the sum of the net amounts of every balance transaction: those `available`
make up `available`, those still `pending` make up `pending`, per currency. Summing the current
state of every transaction keeps the answer consistent with what the list endpoint serves, also
after the clock moved on (settled funds, new payouts, failed payouts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from stripe_assets_emulator.dataset import Dataset

RESOURCE = "balance_transactions"
PAYOUT_CATEGORIES = frozenset({"payout", "payout_reversal"})  # the balance report's "payouts" section


def transactions(ds: Dataset) -> Iterator[dict[str, Any]]:
    """The current (valid) state of every balance transaction, oldest day first."""
    for day in range(ds.days):
        for slot in range(ds.count(RESOURCE, day)):
            yield ds.current(RESOURCE, day, slot)


def balance(ds: Dataset) -> dict[str, Any]:
    available: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for txn in transactions(ds):
        (available if txn["status"] == "available" else pending)[txn["currency"]] += txn["net"]
        # A currency appears in both lists once it has any funds, as on Stripe.
        available.setdefault(txn["currency"], 0)
        pending.setdefault(txn["currency"], 0)

    def amounts(totals: dict[str, int]) -> list[dict[str, Any]]:
        return [
            {"amount": amount, "currency": currency, "source_types": {"card": amount}}
            for currency, amount in sorted(totals.items())
        ]

    return {"object": "balance", "available": amounts(available), "livemode": False, "pending": amounts(pending)}
