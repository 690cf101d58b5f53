"""Payment intents: one payment from creation to completion, whatever charges it took."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import non_negative, positive

RESOURCE = StripeResource(
    name="payment_intents",
    object="payment_intent",
    stripe_class=stripe.PaymentIntent,
    id_prefixes=("pi_",),
    ordinal=7,
    summary="payments from start to finish: amount, status, capture and latest charge",
    group="stripe_payments",
    columns=(
        "id", "created", "amount", "amount_capturable", "amount_received", "currency", "status",
        "customer", "latest_charge", "payment_method", "capture_method", "confirmation_method",
        "description", "receipt_email", "canceled_at", "cancellation_reason",
        "last_payment_error_code: last_payment_error.code",
        "last_payment_error_decline_code: last_payment_error.decline_code",
        "statement_descriptor", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "canceled_at"}),
    # Stripe refuses a payment intent below its currency's minimum charge amount.
    rules=(positive("amount"), non_negative("amount_capturable"), non_negative("amount_received")),
    # Payment intents are canceled, never deleted.
    events=(
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "payment_intent.created",
        "payment_intent.partially_funded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ),
)
