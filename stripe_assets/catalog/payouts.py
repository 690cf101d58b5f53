"""Payouts: money sent from the Stripe balance to the account's bank account."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import positive

RESOURCE = StripeResource(
    name="payouts",
    object="payout",
    stripe_class=stripe.Payout,
    id_prefixes=("po_",),
    ordinal=9,
    summary="money sent to the bank: amount, arrival date, status and its balance transaction",
    group="stripe_balance",
    columns=(
        "id", "created", "amount", "currency", "arrival_date", "status", "automatic", "method",
        "type", "source_type", "balance_transaction", "destination", "failure_balance_transaction",
        "failure_code", "failure_message", "reconciliation_status", "description",
        "statement_descriptor", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "arrival_date"}),
    # Stripe only pays out a positive amount (a negative balance is debited, not paid out).
    rules=(positive("amount"),),
    # Payouts are paid, fail or are canceled; never deleted.
    events=(
        "payout.canceled",
        "payout.created",
        "payout.failed",
        "payout.paid",
        "payout.reconciliation_completed",
        "payout.updated",
    ),
)
