"""Transfers: money the platform sends from its balance to a connected account."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, integers, positive


def _reversed_within_amount(cols: Columns) -> np.ndarray:
    # Stripe reverses at most what was transferred (NaN, a cell of another type, is not judged).
    reversed_, amount = integers(cols["amount_reversed"]), integers(cols["amount"])
    return ~((reversed_ < 0) | (reversed_ > amount))


RESOURCE = StripeResource(
    name="transfers",
    object="transfer",
    stripe_class=stripe.Transfer,
    id_prefixes=("tr_",),
    ordinal=17,
    summary="money sent to connected accounts: amount, destination, reversals and its balance transaction",
    group="stripe_balance",
    columns=(
        "id", "created", "amount", "currency", "destination", "destination_payment", "amount_reversed",
        "reversed", "balance_transaction", "source_transaction", "source_type", "transfer_group",
        "description", "livemode", "metadata",
    ),
    rules=(
        positive("amount"),
        Rule(
            name="reversed_within_amount",
            column="amount_reversed",
            reads=("amount_reversed", "amount"),
            description="0 <= amount_reversed <= amount",
            holds=_reversed_within_amount,
            explain=lambda r: f"amount_reversed ({r.get('amount_reversed')}) is outside 0..amount ({r.get('amount')})",
        ),
    ),
    # Transfers are reversed (in part or in full) or edited (description, metadata); never deleted.
    events=("transfer.created", "transfer.reversed", "transfer.updated"),
)
