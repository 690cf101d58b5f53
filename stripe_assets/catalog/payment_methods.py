"""Payment methods: the cards and accounts saved on each customer."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="payment_methods",
    object="payment_method",
    stripe_class=stripe.PaymentMethod,
    id_prefixes=("pm_",),
    ordinal=104,
    summary="cards and accounts saved on customers: type, card brand, expiry and billing country",
    group="stripe_customers",
    columns=(
        "id", "created", "type", "card_brand: card.brand", "card_last4: card.last4",
        "card_exp_month: card.exp_month", "card_exp_year: card.exp_year", "card_funding: card.funding",
        "billing_country: billing_details.address.country", "allow_redisplay", "livemode", "metadata",
    ),
    # A customer embeds none: one request per customer. A payment method attached to or detached
    # from a customer changes no customer: its own events name the customer to read again.
    child_of=ChildOf(parent="customers", parent_column="customer", path="/v1/customers/{id}/payment_methods"),
    child_events=("payment_method.attached", "payment_method.detached", "payment_method.updated"),
)
