"""Products: the goods and services the account sells, which prices put a cost on."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="products",
    object="product",
    stripe_class=stripe.Product,
    id_prefixes=("prod_",),
    # A product's id can be chosen by the account when it is created.
    custom_ids=True,
    ordinal=8,
    summary="what the account sells: name, description, type and whether it is still offered",
    group="stripe_products",
    columns=(
        "id", "created", "updated", "name", "active", "description", "type", "default_price",
        "unit_label", "tax_code", "statement_descriptor", "shippable", "url", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "updated"}),
    # Only a product without prices can be deleted; Stripe then stops listing it.
    events=("product.created", "product.deleted", "product.updated"),
    deletion_events=("product.deleted",),
)
