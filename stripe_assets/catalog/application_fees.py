"""Application fees: what the platform collects from charges of its connected accounts."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, integers, non_negative


def _refunded_within_amount(cols: Columns) -> np.ndarray:
    # Stripe refunds at most the fee collected (NaN, a cell of another type, is not judged).
    refunded, amount = integers(cols["amount_refunded"]), integers(cols["amount"])
    return ~((refunded < 0) | (refunded > amount))


RESOURCE = StripeResource(
    name="application_fees",
    object="application_fee",
    stripe_class=stripe.ApplicationFee,
    id_prefixes=("fee_",),
    ordinal=18,
    summary="fees collected from connected accounts' charges: amount, refunds, account and charge",
    group="stripe_balance",
    columns=(
        "id", "created", "amount", "amount_refunded", "refunded", "currency", "account", "application",
        "charge", "originating_transaction", "balance_transaction", "fee_source_type: fee_source.type",
        "livemode",
    ),
    rules=(
        non_negative("amount"),
        Rule(
            name="refunded_within_amount",
            column="amount_refunded",
            reads=("amount_refunded", "amount"),
            description="0 <= amount_refunded <= amount",
            holds=_refunded_within_amount,
            explain=lambda r: f"amount_refunded ({r.get('amount_refunded')}) is outside 0..amount ({r.get('amount')})",
        ),
    ),
    # Fees are refunded, in part or in full; never deleted. (`application_fee.refund.updated`
    # carries the refund, not the fee.)
    events=("application_fee.created", "application_fee.refunded"),
)
