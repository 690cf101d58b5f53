"""Disputes: a cardholder's bank contesting a charge, and how the contest ends."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import positive

RESOURCE = StripeResource(
    name="disputes",
    object="dispute",
    stripe_class=stripe.Dispute,
    id_prefixes=("du_", "dp_"),
    ordinal=10,
    summary="charges contested by the cardholder's bank: amount, reason, status and evidence due date",
    group="stripe_payments",
    columns=(
        "id", "created", "charge", "payment_intent", "amount", "currency", "reason", "status",
        "is_charge_refundable", "evidence_due_by: evidence_details.due_by",
        "evidence_submission_count: evidence_details.submission_count",
        "network_reason_code", "balance_transactions", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "due_by"}),
    rules=(positive("amount"),),
    # Stripe sends a dispute's events as charge.dispute.*; the charge's row follows them too.
    events=(
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
    ),
)
