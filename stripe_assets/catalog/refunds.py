"""Refunds: money given back on a charge."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import positive

RESOURCE = StripeResource(
    name="refunds",
    object="refund",
    stripe_class=stripe.Refund,
    id_prefixes=("re_", "pyr_"),
    ordinal=2,
    summary="money given back on charges, with status and reason",
    group="stripe_payments",
    columns=(
        "id", "created", "amount", "currency", "status", "reason", "charge", "payment_intent",
        "balance_transaction", "failure_reason", "description", "receipt_number", "metadata",
    ),
    rules=(positive("amount"),),
    events=("charge.refund.updated", "refund.created", "refund.failed", "refund.updated"),
)
