"""Balance transactions: the ledger of funds moving in and out of the Stripe balance."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import Settling, StripeResource
from stripe_assets.catalog.rules import Columns, Rule, integers


def _net_is_amount_minus_fee(cols: Columns) -> np.ndarray:
    net, amount, fee = (integers(cols[k]) for k in ("net", "amount", "fee"))
    judged = ~(np.isnan(net) | np.isnan(amount) | np.isnan(fee))
    return ~judged | (net == amount - fee)


def _explain_net(record: dict) -> str:
    net, amount, fee = (record.get(k) for k in ("net", "amount", "fee"))
    return f"net ({net}) != amount ({amount}) - fee ({fee})"


RESOURCE = StripeResource(
    name="balance_transactions",
    object="balance_transaction",
    stripe_class=stripe.BalanceTransaction,
    id_prefixes=("txn_",),
    ordinal=3,
    summary="the balance ledger: amount, fee and net of every movement of funds",
    group="stripe_balance",
    columns=(
        "id", "created", "available_on", "amount", "fee", "net", "currency", "exchange_rate",
        "type", "reporting_category", "status", "source", "description", "fee_details",
    ),
    timestamp_fields=frozenset({"created", "available_on"}),
    rules=(
        Rule(
            name="net_is_amount_minus_fee",
            column="net",
            reads=("net", "amount", "fee"),
            description="net == amount - fee",
            holds=_net_is_amount_minus_fee,
            explain=_explain_net,
        ),
    ),
    # Ledger entries are never edited (no events), but a pending one becomes available once its
    # funds are, with no event: Stripe's only change to them.
    settles=Settling(field="status", pending="pending", settled="available", after="available_on"),
)
