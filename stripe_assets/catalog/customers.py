"""Customers: who pays, with their contact details and balance."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="customers",
    object="customer",
    stripe_class=stripe.Customer,
    id_prefixes=("cus_",),
    ordinal=4,
    summary="who pays: contact details, currency, balance and address",
    group="stripe_customers",
    columns=(
        "id", "created", "email", "name", "phone", "description", "currency", "balance",
        "delinquent", "invoice_prefix", "tax_exempt", "livemode",
        "address_country: address.country", "address_city: address.city", "metadata",
    ),
    events=("customer.created", "customer.deleted", "customer.updated"),
    deletion_events=("customer.deleted",),
)
