"""Credit notes: amounts credited on finalized invoices, issued or voided."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import non_negative

RESOURCE = StripeResource(
    name="credit_notes",
    object="credit_note",
    stripe_class=stripe.CreditNote,
    id_prefixes=("cn_",),
    ordinal=20,
    summary="credits on finalized invoices: amount, reason, how it is credited and status",
    group="stripe_billing",
    # Its `lines` stay in `raw`.
    columns=(
        "id", "created", "invoice", "customer", "number", "status", "type", "amount", "subtotal", "total",
        "currency", "reason", "memo", "pre_payment_amount", "post_payment_amount", "out_of_band_amount",
        "customer_balance_transaction", "effective_at", "voided_at", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "effective_at", "voided_at"}),
    # Stripe credits a positive part of an invoice, never more than it.
    rules=(non_negative("amount"),),
    # Credit notes are edited (memo, metadata) or voided; never deleted.
    events=("credit_note.created", "credit_note.updated", "credit_note.voided"),
)
