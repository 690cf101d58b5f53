"""Tax rates: the rates an account defines and applies to invoices, subscriptions and checkout."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import non_negative

RESOURCE = StripeResource(
    name="tax_rates",
    object="tax_rate",
    stripe_class=stripe.TaxRate,
    id_prefixes=("txr_",),
    ordinal=15,
    summary="tax rates defined: percentage, inclusive or not, jurisdiction, type and whether still in use",
    group="stripe_billing",
    columns=(
        "id", "created", "display_name", "description", "percentage", "inclusive", "active", "country",
        "state", "jurisdiction", "jurisdiction_level", "tax_type", "effective_percentage", "rate_type",
        "livemode", "metadata",
    ),
    rules=(non_negative("percentage"),),
    # Without an `active` filter Stripe lists archived rates too, so no list params are needed.
    # A rate's percentage and inclusiveness never change; it is archived (active false), never deleted.
    events=("tax_rate.created", "tax_rate.updated"),
)
