"""Transfers along their lifecycle: the platform edits one (description, metadata: all Stripe lets
change) or reverses it, in part or in full.

A reversal is a `transfer_reversal` (`trr_`) embedded in the transfer's `reversals`, newest first;
its amount comes back to the platform's balance in a balance transaction of type
`transfer_refund` whose `source` is the reversal. The transfer's `amount_reversed` grows and
`reversed` turns true once all of it is back (`transfer.reversed` either way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

_REVERSAL = 1  # discriminator of the reversal's id
FULL_SHARE = 0.6  # share of reversals that take back everything left


def transfer_updated(changer: Changer, change: Change) -> None:
    r = changer.draws(change)
    describe = r.random() < 0.5
    number = r.randrange(10000)

    def edit(t: dict[str, Any]) -> None:
        if describe:
            t["description"] = f"Seller earnings, statement {number:04d}"
        else:
            t["metadata"] = {**t["metadata"], "order": f"ORD-{number:04d}"}

    changer.update(change, "transfers", edit, "transfer.updated")


def transfer_reversed(changer: Changer, change: Change) -> None:
    transfer = changer.ds.current("transfers", *change.place)
    left = transfer["amount"] - transfer["amount_reversed"]
    r = changer.draws(change)
    amount = left if left == 1 or r.random() < FULL_SHARE else max(1, int(left * r.uniform(0.1, 0.9)))
    reversal_id = changer.related_id("trr_", change, _REVERSAL)
    txn = changer.balance_transaction(
        change.at,
        amount=amount,
        currency=transfer["currency"],
        type="transfer_refund",
        category="transfer_reversal",
        source=reversal_id,
        description=None,
    )
    reversal = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": txn["id"],
        "created": change.at,
        "currency": transfer["currency"],
        "destination_payment_refund": None,
        "metadata": {},
        "source_refund": None,
        "transfer": transfer["id"],
    }

    def reverse(t: dict[str, Any]) -> None:
        reversals = t["reversals"]
        t["amount_reversed"] = t["amount_reversed"] + amount
        t["reversals"] = {
            **reversals,
            "data": [reversal, *reversals["data"]],
            "total_count": reversals["total_count"] + 1,
        }
        t["reversed"] = t["amount_reversed"] == t["amount"]

    changer.update(change, "transfers", reverse, "transfer.reversed")
