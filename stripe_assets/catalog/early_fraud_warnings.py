"""Early fraud warnings: a card issuer's report that a charge was likely fraudulent, before any dispute."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="early_fraud_warnings",
    object="radar.early_fraud_warning",
    stripe_class=stripe.radar.EarlyFraudWarning,
    id_prefixes=("issfr_",),
    ordinal=14,
    summary="issuers' reports of likely fraud on a charge: fraud type and whether it can still be acted on",
    group="stripe_payments",
    columns=("id", "created", "charge", "payment_intent", "fraud_type", "actionable", "livemode"),
    list_path="/v1/radar/early_fraud_warnings",
    # A warning stops being actionable once its charge is fully refunded or disputed; never deleted.
    events=("radar.early_fraud_warning.created", "radar.early_fraud_warning.updated"),
)
