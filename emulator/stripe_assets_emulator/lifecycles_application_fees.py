"""Application fees along their lifecycle: the platform refunds one, in part or in full.

A refund is a `fee_refund` (`fr_`) embedded in the fee's `refunds`, newest first; its amount
leaves the platform's balance in a balance transaction of type `application_fee_refund` whose
`source` is the refund. The fee's `amount_refunded` grows and `refunded` turns true once all of
it is back (`application_fee.refunded` either way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

_REFUND = 1  # discriminator of the refund's id
FULL_SHARE = 0.6  # share of refunds that give back everything left


def application_fee_refunded(changer: Changer, change: Change) -> None:
    fee = changer.ds.current("application_fees", *change.place)
    left = fee["amount"] - fee["amount_refunded"]
    r = changer.draws(change)
    amount = left if left == 1 or r.random() < FULL_SHARE else max(1, int(left * r.uniform(0.1, 0.9)))
    refund_id = changer.related_id("fr_", change, _REFUND)
    txn = changer.balance_transaction(
        change.at,
        amount=-amount,
        currency=fee["currency"],
        type="application_fee_refund",
        category="platform_earning_refund",
        source=refund_id,
        description=None,
    )
    refund = {
        "id": refund_id,
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "created": change.at,
        "currency": fee["currency"],
        "fee": fee["id"],
        "metadata": {},
    }

    def give_back(f: dict[str, Any]) -> None:
        refunds = f["refunds"]
        f["amount_refunded"] = f["amount_refunded"] + amount
        f["refunds"] = {**refunds, "data": [refund, *refunds["data"]], "total_count": refunds["total_count"] + 1}
        f["refunded"] = f["amount_refunded"] == f["amount"]

    changer.update(change, "application_fees", give_back, "application_fee.refunded")
