"""Setup intents: a customer's payment method saved for later payments, from start to finish."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="setup_intents",
    object="setup_intent",
    stripe_class=stripe.SetupIntent,
    id_prefixes=("seti_",),
    ordinal=12,
    summary="payment methods saved for later: customer, payment method, usage and status",
    group="stripe_payments",
    columns=(
        "id", "created", "status", "customer", "payment_method", "usage", "cancellation_reason",
        "last_setup_error_code: last_setup_error.code",
        "last_setup_error_decline_code: last_setup_error.decline_code",
        "latest_attempt", "mandate", "description", "livemode", "metadata",
    ),
    # Setup intents succeed or are canceled, never deleted.
    events=(
        "setup_intent.canceled",
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.setup_failed",
        "setup_intent.succeeded",
    ),
)
