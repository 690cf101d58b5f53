"""Payout balance transactions: which balance transactions each payout paid out (cash reconciliation)."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.balance_transactions import RESOURCE as BALANCE_TRANSACTIONS
from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="payout_balance_transactions",
    object="balance_transaction",
    stripe_class=stripe.BalanceTransaction,
    id_prefixes=("txn_",),
    ordinal=103,
    summary="the balance transactions each automatic payout paid out, its own included",
    group="stripe_balance",
    columns=(
        "id", "created", "available_on", "amount", "fee", "net", "currency", "type",
        "reporting_category", "status", "source",
    ),
    timestamp_fields=BALANCE_TRANSACTIONS.timestamp_fields,
    rules=BALANCE_TRANSACTIONS.rules,
    # A payout embeds none: one request per payout. Stripe answers `payout=` only for automatic
    # payouts; a manual payout's transactions cannot be told apart, so it has none here.
    child_of=ChildOf(
        parent="payouts", parent_column="payout", path="/v1/balance_transactions", parent_param="payout",
        only_when=("automatic", True),
    ),
)
